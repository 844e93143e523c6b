import type { ChannelOptions } from '@grpc/grpc-js';
import { afterEach } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { AdsTestClient } from './ads-client.js';

export interface AdsRig {
  /** The control plane the current test started (throws before `start`). */
  readonly cp: ControlPlane;
  /** Creates and starts the control plane; resolves to its xDS port. */
  start(config: Config, opts?: Parameters<typeof createControlPlane>[1]): Promise<number>;
  /** An ADS client on `port`, closed after the test. */
  client(port: number, protocol: 'sotw' | 'delta', options?: ChannelOptions): AdsTestClient;
}

/** A control plane and ADS clients per test, all stopped and closed after each test of the calling file. */
export function adsRig(): AdsRig {
  let current: ControlPlane | undefined;
  const clients: AdsTestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await current?.stop();
    current = undefined;
  });
  return {
    get cp(): ControlPlane {
      if (!current) throw new Error('adsRig: start() the control plane first');
      return current;
    },
    async start(config, opts) {
      current = createControlPlane(config, opts);
      return (await current.start()).port;
    },
    client(port, protocol, options) {
      const c = new AdsTestClient(port, protocol, options);
      clients.push(c);
      return c;
    },
  };
}
