import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { TYPE } from '../../src/xds/protos.js';
import { adsRig } from '../support/ads-rig.js';
import { AdsTestClient, type Received } from '../support/ads-client.js';
import { waitFor } from '../support/wait.js';

// A fan-out in slices over real gRPC: a 0 ms slice yields to the event loop after every 16 streams, so responses
// leave while later streams are still being written, ACKs arrive during fan-outs (and wait for them), and new
// publishes supersede fan-outs under way. Every stream must still end with the newest EDS, ACKed.
const STREAMS = 64;
const CHANGES = 6;

const rig = adsRig();

const weightOf = (r: Received): number | undefined => {
  const endpoints = (r.resources[0]?.message.endpoints as Array<{ lb_endpoints: Array<{ load_balancing_weight?: { value: number } }> }>) ?? [];
  return endpoints[0]?.lb_endpoints[0]?.load_balancing_weight?.value;
};

describe.each(['sotw', 'delta'] as const)('ADS fan-out in slices (%s)', (protocol) => {
  it(`${STREAMS} streams, ${CHANGES} changes published back to back: every stream gets and ACKs the newest EDS`, async () => {
    const config = validateConfig({
      xds: { listen: '127.0.0.1:0', debounceMs: 0 },
      clusters: [{ name: 'c1', endpoints: [{ address: '127.0.0.1', port: 9001, weight: 1 }] }],
    });
    const port = await rig.start(config, { fanOutSliceMs: 0 });
    const last = new Map<AdsTestClient, Received>();
    const edsAck = protocol === 'sotw' ? { resource_names: ['c1'] } : {}; // a SotW ACK repeats the subscription
    for (let i = 0; i < STREAMS; i++) {
      const c = rig.client(port, protocol);
      c.send({ node: { id: `fanout-${i}` }, type_url: TYPE.cluster });
      c.ack(await c.next(TYPE.cluster));
      c.send(protocol === 'sotw' ? { type_url: TYPE.endpoint, resource_names: ['c1'] } : { type_url: TYPE.endpoint, resource_names_subscribe: ['c1'] });
      const eds = await c.next(TYPE.endpoint);
      c.ack(eds, edsAck);
      last.set(c, eds);
      // From now on ACK every EDS response as it comes.
      void (async () => {
        for (;;) {
          const r = await c.next(TYPE.endpoint, 60_000).catch(() => undefined);
          if (!r) return;
          last.set(c, r);
          c.ack(r, edsAck);
        }
      })();
    }
    for (let k = 1; k <= CHANGES; k++) {
      rig.cp.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, weight: k + 1 });
      rig.cp.topology.publishNow();
    }
    const final = CHANGES + 1; // the weight set last (a control plane without the engine publishes it as set)
    const version = rig.cp.cache.current()!.types[TYPE.endpoint].version;
    await waitFor(() => [...last.keys()].every((c) => weightOf(last.get(c)!) === final), { timeoutMs: 15_000, what: 'every stream has the newest EDS' });
    await waitFor(() => rig.cp.ledger.proxies().filter((p) => p.types[TYPE.endpoint]?.ackedVersion === version).length === STREAMS, {
      timeoutMs: 15_000,
      what: 'every stream ACKed the newest EDS version',
    });
    const proxies = rig.cp.ledger.proxies();
    expect(proxies).toHaveLength(STREAMS);
    expect(proxies.every((p) => p.types[TYPE.endpoint]?.nacks === 0)).toBe(true);
  });
});
