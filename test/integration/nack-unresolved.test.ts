import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createControlPlane, type ControlPlane } from '../../src/controlplane.js';
import { TYPE } from '../../src/xds/protos.js';
import { AdsTestClient } from '../support/ads-client.js';
import { waitFor } from '../support/wait.js';

/**
 * Found by trying healthmesh against Envoy 1.40 (fresh-eyes-18; fixed: the session tells the ledger what it holds back): a change Envoy rejects is held back
 * ("not re-sent until it changes"), but the NACK counts as resolved (ledger.nacked(), which the `nack`
 * alert reads) as soon as the proxy ACKs any later response of that type, e.g. an unrelated change, or
 * the good half of a bisected response. The rejected resource then never reaches the proxy, the ledger
 * shows sent == acked, and the alert resolves (or, after a bisection, never fires at all).
 */
function config(c1TimeoutMs: number, c2TimeoutMs: number): Readonly<Config> {
  return validateConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 10 },
    listeners: [{ name: 'l1', port: 10000, routeConfig: 'r1' }],
    routes: [
      {
        name: 'r1',
        virtualHosts: [
          {
            name: 'vh',
            routes: [
              { prefix: '/a', cluster: 'c1' },
              { prefix: '/b', cluster: 'c2' },
            ],
          },
        ],
      },
    ],
    clusters: [
      { name: 'c1', connectTimeoutMs: c1TimeoutMs, endpoints: [{ address: '127.0.0.1', port: 9001 }] },
      { name: 'c2', connectTimeoutMs: c2TimeoutMs, endpoints: [{ address: '127.0.0.1', port: 9002 }] },
    ],
  });
}

const timeoutOf = (r: { resources: Array<{ name: string; message: Record<string, unknown> }> }, name: string): string | undefined =>
  (r.resources.find((x) => x.name === name)?.message as { connect_timeout?: { seconds?: string; nanos?: number } } | undefined)?.connect_timeout?.seconds;

let cp: ControlPlane | undefined;
let c: AdsTestClient | undefined;
afterEach(async () => {
  c?.close();
  await cp?.stop();
});

describe('a NACK stays unresolved while the rejected change is held back (SotW CDS)', () => {
  it('an unrelated, ACKed change does not resolve it', async () => {
    cp = createControlPlane(config(1000, 1000));
    const port = (await cp.start()).port;
    c = new AdsTestClient(port, 'sotw');
    c.send({ node: { id: 'n-held', cluster: 'test' }, type_url: TYPE.cluster });
    const first = await c.next(TYPE.cluster, 10_000);
    c.ack(first);
    await waitFor(() => cp!.ledger.proxies()[0]?.types[TYPE.cluster]?.ackedVersion === first.version, { timeoutMs: 10_000, what: 'first ACK' });

    // c1 changes; the proxy rejects it (as Envoy would reject a cluster it cannot build).
    cp.reload(config(2000, 1000));
    const bad = await c.next(TYPE.cluster, 10_000);
    expect(timeoutOf(bad, 'c1')).toBe('2');
    c.nack(bad, 'cluster c1: rejected for the test');
    await waitFor(() => cp!.ledger.nacked().length === 1, { timeoutMs: 10_000, what: 'the NACK to be unresolved' });

    // An unrelated change to c2: the proxy gets c2's change (and c1's last good content) and ACKs it.
    cp.reload(config(2000, 3000));
    const next = await c.next(TYPE.cluster, 10_000);
    expect(timeoutOf(next, 'c2')).toBe('3');
    expect(timeoutOf(next, 'c1')).toBe('1'); // the rejected change is still held back: the proxy does not have it
    c.ack(next);
    await waitFor(() => cp!.ledger.proxies()[0]?.types[TYPE.cluster]?.ackedVersion === next.version, { timeoutMs: 10_000, what: 'the ACK of c2' });

    // The proxy still lacks c1's wanted config: the NACK (and so the `nack` alert) must not be resolved.
    expect(cp.ledger.nacked()).toEqual([{ nodeId: 'n-held', nacked: [{ typeUrl: TYPE.cluster, message: 'cluster c1: rejected for the test' }] }]);
    expect(cp.ledger.proxies()[0]?.types[TYPE.cluster]?.heldBack).toEqual(['c1']);

    // The operator fixes c1 (a new version the proxy accepts): resolved, nothing held back.
    cp.reload(config(4000, 3000));
    const fixed = await c.next(TYPE.cluster, 10_000);
    expect(timeoutOf(fixed, 'c1')).toBe('4');
    c.ack(fixed);
    await waitFor(() => cp!.ledger.nacked().length === 0, { timeoutMs: 10_000, what: 'the NACK resolved by the fix' });
    expect(cp.ledger.proxies()[0]?.types[TYPE.cluster]?.heldBack).toBeUndefined();
  });
});
