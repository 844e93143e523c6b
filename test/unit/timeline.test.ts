import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { Ledger } from '../../src/xds/ledger.js';
import { TYPE } from '../../src/xds/protos.js';
import { Topology } from '../../src/xds/topology.js';
import { VersionClock } from '../../src/xds/versions.js';
import type { Healthmesh } from '../../src/app.js';
import type { EngineEvent } from '../../src/health/engine.js';
import { recordTimeline, shareStep, step, type Step } from '../support/timeline.js';

/** The e2e timeline recorder on a real snapshot cache, topology and ledger (no network): it must fail when the order is wrong. */
const config = validateConfig({
  listeners: [{ name: 'l1', port: 10000, routeConfig: 'r1' }],
  routes: [{ name: 'r1', virtualHosts: [{ name: 'vh', routes: [{ prefix: '/', cluster: 'c1' }] }] }],
  clusters: [
    {
      name: 'c1',
      endpoints: [
        { address: '127.0.0.1', port: 9001 },
        { address: '127.0.0.1', port: 9002 },
      ],
    },
  ],
});
const K1 = 'c1/127.0.0.1:9001';

function setup() {
  const cache = new SnapshotCache();
  const topology = new Topology(config, { cache, versions: new VersionClock(() => 1_000_000), logger: silentLogger(), debounceMs: 0, now: () => 1_000_000 });
  const ledger = new Ledger(() => 1_000_000);
  const stream = ledger.connect({ streamId: 's1', nodeId: 'envoy', protocol: 'sotw', peer: 'test' });
  const timeline = recordTimeline({ cache, ledger });
  const edsVersion = () => cache.current()!.types[TYPE.endpoint].version;
  const ackEds = (version = edsVersion()) => {
    stream.sent(TYPE.endpoint, version);
    stream.ack(TYPE.endpoint, version, 1_000_000);
  };
  return { cache, topology, ledger, timeline, edsVersion, ackEds };
}

const drained: Step[] = [step('eds', { match: (e) => e.health === 'UNHEALTHY' }), step('ack')] as Step[];

afterEach(() => {
  vi.useRealTimers();
});

describe('timeline recorder', () => {
  it('records the EDS version that changed an endpoint, and matches an ACK of that version or a later one', () => {
    const { topology, timeline, ackEds } = setup();
    topology.publishNow();
    const start = timeline.mark(K1, 'start');
    topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    topology.publishNow();
    expect(timeline.findOrder(K1, drained, start)).toBeUndefined(); // published, not ACKed yet
    topology.setEndpoint('c1', { address: '127.0.0.1', port: 9002, weight: 7 });
    topology.publishNow();
    ackEds(); // an ACK of the later version covers the earlier one
    const [eds, ack] = timeline.expectOrder(K1, drained, start);
    expect(eds).toMatchObject({ kind: 'eds', key: K1, health: 'UNHEALTHY' });
    expect(ack).toMatchObject({ kind: 'ack', node: 'envoy' });
    // The other endpoint's change is its own entry; K1 is not reported again (it did not change).
    expect(timeline.of('eds', K1).filter((e) => e.seq > start.seq)).toHaveLength(1);
    expect(timeline.of('eds', 'c1/127.0.0.1:9002').at(-1)).toMatchObject({ weight: 7 });
  });

  it('does not accept an ACK of an older version, or steps out of order', () => {
    const { topology, timeline, ackEds, edsVersion } = setup();
    topology.publishNow();
    const old = edsVersion();
    const start = timeline.mark(K1, 'start');
    topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    topology.publishNow();
    ackEds(old); // a late ACK of the version before the change
    expect(timeline.findOrder(K1, drained, start)).toBeUndefined();
    expect(() => timeline.expectOrder(K1, drained, start)).toThrow(/expected in order: ✓ eds → ✗ ack/);
    // A share measured before the ACK does not count as following it.
    timeline.mark(K1, 'share', 0);
    ackEds();
    expect(timeline.findOrder(K1, [...drained, shareStep('no share', (v) => v === 0)], start)).toBeUndefined();
    timeline.mark(K1, 'share', 0);
    expect(timeline.findOrder(K1, [...drained, shareStep('no share', (v) => v === 0)], start)).toHaveLength(3);
  });

  it('records removals, keeps every published EDS per cluster, and waits with one outer deadline', async () => {
    const { topology, timeline, ackEds } = setup();
    topology.publishNow();
    const start = timeline.mark(K1, 'start');
    const waiting = timeline.waitForOrder(K1, [step('eds-removed'), step('ack')] as Step[], { after: start, timeoutMs: 2000 });
    topology.removeEndpoint('c1', '127.0.0.1', 9001);
    topology.publishNow();
    ackEds();
    await expect(waiting).resolves.toHaveLength(2);
    expect(timeline.published.filter((p) => p.cluster === 'c1').map((p) => p.endpoints.size)).toEqual([2, 1]);
    await expect(timeline.waitForOrder(K1, [step('eds')] as Step[], { after: start, timeoutMs: 50, what: 'never' })).rejects.toThrow(
      /timed out after 50ms waiting for never\nexpected in order: ✗ eds/,
    );
  });

  it('records a probe before the decision it caused (the app tells the engine before its probe listeners)', async () => {
    const probeListeners: Array<(id: string, o: { ok: boolean; latencyMs: number }) => void> = [];
    const engineListeners: Array<(e: EngineEvent) => void> = [];
    const decide = (key: string, health: string) =>
      ({
        kind: 'endpoint',
        at: 0,
        endpoint: { key, decision: { status: health, circuit: 'open', health, weight: 100 } },
        previous: undefined,
      }) as unknown as EngineEvent;
    // The order of src/app.ts onProbe(): engine first (which may decide synchronously), then the probe listeners.
    const probe = (key: string, ok: boolean, decision?: string) => {
      if (decision) for (const l of engineListeners) l(decide(key, decision));
      for (const l of probeListeners) l(key, { ok, latencyMs: 1 });
    };
    const app = {
      onProbe: (l: (typeof probeListeners)[number]) => (probeListeners.push(l), () => undefined),
      engine: { onEvent: (l: (typeof engineListeners)[number]) => (engineListeners.push(l), () => undefined) },
      controlPlane: { cache: new SnapshotCache(), ledger: new Ledger() },
    } as unknown as Healthmesh;
    const timeline = recordTimeline({ app });
    probe(K1, false);
    probe('c1/127.0.0.1:9002', true);
    probe(K1, false, 'UNHEALTHY');
    await Promise.resolve();
    for (const l of engineListeners) l(decide(K1, 'HEALTHY')); // a decision on a timer (a task of its own) stays before
    await Promise.resolve(); // the next probe result comes in a later task
    probe(K1, true);
    expect(timeline.of('probe', K1).length + timeline.of('decision', K1).length).toBe(5);
    expect(timeline.entries.map((e) => `${e.seq}:${e.kind}:${'ok' in e ? e.ok : 'health' in e ? e.health : ''}`)).toEqual([
      '1:probe:false',
      '2:probe:true',
      '3:probe:false',
      '4:decision:UNHEALTHY',
      '5:decision:HEALTHY',
      '6:probe:true',
    ]);
    timeline.expectOrder(K1, [step('probe', { match: (p) => !p.ok }), step('probe', { match: (p) => !p.ok }), step('decision')] as Step[]);
  });
});
