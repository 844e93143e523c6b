import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { TYPE } from '../../src/xds/protos.js';
import { adsRig } from '../support/ads-rig.js';
import { AdsTestClient, type Received } from '../support/ads-client.js';
import { waitFor } from '../support/wait.js';

/**
 * xDS protocol rules that clients other than Envoy depend on, and NACK semantics: what a client
 * holds is what it ACKed. Raw ADS clients send exactly what each case says.
 */
const node = (id: string) => ({ id, cluster: 'test' });
type Protocol = 'sotw' | 'delta';

interface Shape {
  /** c1 connect timeout (changes the c1 Cluster resource). */
  c1Timeout?: number;
  c2Timeout?: number;
  /** Without c2 and the /b route. */
  dropC2?: boolean;
  /** Prefix of the route to c1. */
  c1Prefix?: string;
  xds?: Record<string, unknown>;
}

function config(s: Shape = {}): Readonly<Config> {
  return validateConfig({
    xds: { listen: '127.0.0.1:0', debounceMs: 5, ...s.xds },
    listeners: [
      { name: 'l1', port: 10000, routeConfig: 'r1' },
      { name: 'l2', port: 10001, routeConfig: 'r1' },
    ],
    routes: [
      {
        name: 'r1',
        virtualHosts: [{ name: 'vh', routes: [{ prefix: s.c1Prefix ?? '/a', cluster: 'c1' }, ...(s.dropC2 ? [] : [{ prefix: '/b', cluster: 'c2' }])] }],
      },
    ],
    clusters: [
      { name: 'c1', connectTimeoutMs: s.c1Timeout ?? 1000, endpoints: [{ address: '127.0.0.1', port: 9001 }] },
      ...(s.dropC2 ? [] : [{ name: 'c2', connectTimeoutMs: s.c2Timeout ?? 1000, endpoints: [{ address: '127.0.0.1', port: 9003 }] }]),
    ],
  });
}

const rig = adsRig();

const start = (s: Shape = {}): Promise<number> => rig.start(config(s));
const client = (port: number, protocol: Protocol): AdsTestClient => rig.client(port, protocol);
/** The server has processed the client's ACK of `r` (so later changes race nothing). */
const acked = (type: string, r: Received) =>
  waitFor(() => rig.cp.ledger.proxies().some((p) => p.types[type]?.ackedVersion === r.version), { timeoutMs: 10_000, what: `ACK of ${r.version}` });
/** Runs `change` and waits until it is published (so a later change is a push of its own, not merged with it). */
async function published(change: () => void): Promise<void> {
  const before = rig.cp.cache.current()?.version;
  change();
  await waitFor(() => rig.cp.cache.current()?.version !== before, { timeoutMs: 10_000, what: 'the change published' });
}
/**
 * Sends the client's answer (ACK or NACK) to a `type` response and waits until the server has recorded it: the
 * ledger's ack/nack event for that type (two ACKs of one version within a millisecond change no recorded field).
 */
async function answered(type: string, send: () => void): Promise<void> {
  let recorded = false;
  const off = rig.cp.ledger.onEvent((e) => {
    if (e.typeUrl === type) recorded = true;
  });
  try {
    send();
    await waitFor(() => recorded, { timeoutMs: 10_000, what: `the ${type.split('.').pop()} answer recorded` });
  } finally {
    off();
  }
}
const types = AdsTestClient.types;
const names = (r: Received): string[] => r.resources.map((x) => x.name).sort();
const timeoutOf = (r: Received, name: string): unknown =>
  (r.resources.find((x) => x.name === name)?.message as { connect_timeout?: { seconds?: string; nanos?: number } } | undefined)?.connect_timeout;

/** Subscribe to `type` by name in either protocol (first request carries the node). */
function subscribe(c: AdsTestClient, type: string, list: string[], first = false): void {
  const n = first ? { node: node(`n-${Math.random().toString(36).slice(2, 8)}`) } : {};
  if (c.protocol === 'sotw') c.send({ ...n, type_url: type, resource_names: list });
  else c.send({ ...n, type_url: type, resource_names_subscribe: list });
}

describe('SotW LDS/CDS carry every subscribed resource, named or wildcard', () => {
  it.each([
    ['CDS', TYPE.cluster, ['c1'], ['c1', 'c2']],
    ['LDS', TYPE.listener, ['l1'], ['l1', 'l2']],
  ])('%s: a named subscriber that adds a name gets both, and both again when one changes', async (_label, type, one, both) => {
    const port = await start();
    const c = client(port, 'sotw');
    subscribe(c, type, one, true);
    const first = await c.next(type);
    expect(names(first)).toEqual(one);
    c.ack(first, { resource_names: both });
    const second = await c.next(type);
    expect(names(second)).toEqual(both);
    await answered(type, () => c.ack(second, { resource_names: both }));
    await published(() => rig.cp.reload(config({ c2Timeout: 2500 }))); // changes c2 only (and nothing for listeners)
    if (type === TYPE.cluster) {
      const third = await c.next(type);
      expect(names(third)).toEqual(both);
      expect(timeoutOf(third, 'c2')).toMatchObject({ seconds: '2', nanos: 500_000_000 });
      await answered(type, () => c.ack(third, { resource_names: both }));
    }
    // Nothing more of this type until a later change to it (the positive marker): c1's timeout, l1's port.
    if (type === TYPE.cluster) rig.cp.reload(config({ c2Timeout: 2500, c1Timeout: 3000 }));
    else {
      const cfg = structuredClone(config({ c2Timeout: 2500 })) as { listeners: Array<{ port: number }> };
      cfg.listeners[0]!.port = 10005;
      rig.cp.reload(validateConfig(cfg));
    }
    const { marker, before } = await c.until(type);
    expect(types(before)).toEqual([]);
    expect(names(marker)).toEqual(both);
  });

  it.each<[string, Protocol, string[] | undefined]>([
    ['SotW named', 'sotw', ['c1', 'c2']],
    ['SotW wildcard', 'sotw', undefined],
    ['Delta named', 'delta', ['c1', 'c2']],
    ['Delta wildcard', 'delta', undefined],
  ])('%s CDS subscriber sees a removed cluster go', async (_label, protocol, list) => {
    const port = await start();
    const c = client(port, protocol);
    if (list) subscribe(c, TYPE.cluster, list, true);
    else c.send({ node: node('wild'), type_url: TYPE.cluster });
    const first = await c.next(TYPE.cluster);
    expect(names(first)).toEqual(['c1', 'c2']);
    c.ack(first, protocol === 'sotw' && list ? { resource_names: list } : {});
    rig.cp.reload(config({ dropC2: true }));
    const upd = await c.next(TYPE.cluster);
    if (protocol === 'sotw') expect(names(upd)).toEqual(['c1']);
    else expect(upd.removed).toEqual(['c2']);
  });

  it('a named LDS subscriber sees its listener removed (omitted from the next response)', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    subscribe(c, TYPE.listener, ['l1', 'l2'], true);
    c.ack(await c.next(TYPE.listener), { resource_names: ['l1', 'l2'] });
    const cfg = structuredClone(config()) as { listeners: unknown[] };
    cfg.listeners.pop();
    rig.cp.reload(validateConfig(cfg));
    expect(names(await c.next(TYPE.listener))).toEqual(['l1']);
  });

  it.each<[Protocol]>([['sotw'], ['delta']])('%s: an explicit "*" subscribes to every cluster', async (protocol) => {
    const port = await start();
    const c = client(port, protocol);
    subscribe(c, TYPE.cluster, ['*'], true);
    expect(names(await c.next(TYPE.cluster))).toEqual(['c1', 'c2']);
  });

  it('switching from wildcard to named: only the named cluster is sent afterwards', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('switch'), type_url: TYPE.cluster });
    const first = await c.next(TYPE.cluster);
    expect(names(first)).toEqual(['c1', 'c2']);
    c.ack(first, { resource_names: ['c1'] });
    await acked(TYPE.cluster, first);
    await published(() => rig.cp.reload(config({ c2Timeout: 2000 })));
    rig.cp.reload(config({ c2Timeout: 2000, c1Timeout: 3000 }));
    // The change to c2 sent nothing: the change to c1 is the next response.
    const { marker: upd, before } = await c.until(TYPE.cluster);
    expect(types(before)).toEqual([]);
    expect(names(upd)).toEqual(['c1']);
  });

  it('a later empty SotW list from a named subscriber unsubscribes (it does not turn into a wildcard)', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    subscribe(c, TYPE.cluster, ['c1'], true);
    const first = await c.next(TYPE.cluster);
    c.ack(first, { resource_names: [] });
    await acked(TYPE.cluster, first);
    await published(() => rig.cp.reload(config({ c1Timeout: 3000, c2Timeout: 3000 })));
    // The marker: a listener subscription made after that change was published is answered with no CDS before it.
    c.send({ type_url: TYPE.listener });
    const { before } = await c.until(TYPE.listener);
    expect(types(before)).toEqual([]);
  });
});

describe('Delta initial_resource_versions', () => {
  it('sends only what differs from the versions the client says it holds, and removes what no longer exists', async () => {
    const port = await start();
    const probe = client(port, 'delta');
    probe.send({ node: node('probe'), type_url: TYPE.endpoint, resource_names_subscribe: ['c1', 'c2'] });
    const all = await probe.next(TYPE.endpoint);
    const v = Object.fromEntries(all.resources.map((r) => [r.name, r.version!]));

    const c = client(port, 'delta');
    c.send({
      node: node('reconnect'),
      type_url: TYPE.endpoint,
      resource_names_subscribe: ['c1', 'c2', 'c9'],
      initial_resource_versions: { c1: v.c1, c2: 'stale', c9: 'old' },
    });
    const first = await c.next(TYPE.endpoint);
    expect(names(first)).toEqual(['c2']);
    expect(first.removed).toEqual(['c9']);
  });
});

describe('NACK: the client keeps its last ACKed versions', () => {
  it.each<[Protocol]>([['sotw'], ['delta']])(
    '%s CDS: a NACKed cluster is not re-sent as is, but is re-sent after a fix that restores the ACKed content',
    async (protocol) => {
      const port = await start();
      const c = client(port, protocol);
      c.send({ node: node(`nack-fix-${protocol}`), type_url: TYPE.cluster });
      const first = await c.next(TYPE.cluster);
      c.ack(first);
      rig.cp.reload(config({ c1Timeout: 7000 }));
      const bad = await c.next(TYPE.cluster);
      expect(timeoutOf(bad, 'c1')).toMatchObject({ seconds: '7' });
      await answered(TYPE.cluster, () => c.nack(bad, 'c1: rejected for the test'));
      // The fix restores exactly what the client last ACKed: it may have applied part of the rejected response, so c1 goes again.
      // And it is the next CDS response: the rejected one was not re-sent before it.
      rig.cp.reload(config());
      const { marker: fixed, before } = await c.until(TYPE.cluster);
      expect(types(before)).toEqual([]);
      expect(names(fixed)).toEqual(protocol === 'sotw' ? ['c1', 'c2'] : ['c1']);
      expect(timeoutOf(fixed, 'c1')).toMatchObject({ seconds: '1' });
      c.ack(fixed);
      await waitFor(() => rig.cp.ledger.proxies()[0]?.types[TYPE.cluster]?.ackedVersion === fixed.version, { timeoutMs: 10_000, what: 'the fix ACKed' });
    },
  );

  it.each<[Protocol]>([['sotw'], ['delta']])(
    '%s EDS: a NACKed response changing two clusters is retried one cluster per response; the good one settles',
    async (protocol) => {
      const port = await start();
      const c = client(port, protocol);
      subscribe(c, TYPE.endpoint, ['c1', 'c2'], true);
      const first = await c.next(TYPE.endpoint);
      c.ack(first, protocol === 'sotw' ? { resource_names: ['c1', 'c2'] } : {});
      rig.cp.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, weight: 5 });
      rig.cp.topology.setEndpoint('c2', { address: '127.0.0.1', port: 9003, weight: 5 });
      const both = await c.next(TYPE.endpoint);
      expect(names(both)).toEqual(['c1', 'c2']);
      const extra = protocol === 'sotw' ? { resource_names: ['c1', 'c2'] } : {};
      c.nack(both, 'c2: bad endpoint', extra);
      const one = await c.next(TYPE.endpoint);
      expect(one.resources).toHaveLength(1);
      // One at a time while isolating: a CDS request made now is answered before any second EDS response.
      c.send({ type_url: TYPE.cluster });
      expect(types((await c.until(TYPE.cluster)).before)).toEqual([]);
      const rest: string[] = [];
      if (one.resources[0]!.name === 'c2') c.nack(one, 'c2: bad endpoint', extra);
      else c.ack(one, extra);
      const two = await c.next(TYPE.endpoint);
      rest.push(...names(two));
      expect([one.resources[0]!.name, ...rest].sort()).toEqual(['c1', 'c2']);
      await answered(TYPE.endpoint, () => (two.resources[0]!.name === 'c2' ? c.nack(two, 'c2: bad endpoint', extra) : c.ack(two, extra)));
      // c2 at the rejected version is not re-sent: the next EDS response is c2's next change.
      rig.cp.topology.setEndpoint('c2', { address: '127.0.0.1', port: 9003, weight: 6 });
      const { marker, before } = await c.until(TYPE.endpoint);
      expect(types(before).filter((t) => t !== 'Cluster')).toEqual([]);
      expect(names(marker)).toEqual(['c2']);
      expect(JSON.stringify(marker.resources[0]!.message)).toContain('"value":6');
    },
  );

  it.each<[Protocol]>([['sotw'], ['delta']])(
    '%s: a NACKed route update keeps the cluster it stopped using (make-before-break waits for the ACK)',
    async (protocol) => {
      const port = await start();
      const c = client(port, protocol);
      c.send({ node: node(`mbb-${protocol}`), type_url: TYPE.cluster });
      c.ack(await c.next(TYPE.cluster));
      subscribe(c, TYPE.route, ['r1']);
      const r = await c.next(TYPE.route);
      c.ack(r, protocol === 'sotw' ? { resource_names: ['r1'] } : {});
      const extra = protocol === 'sotw' ? { resource_names: ['r1'] } : {};

      rig.cp.reload(config({ dropC2: true }));
      const rds = await c.next(TYPE.route);
      await answered(TYPE.route, () => c.nack(rds, 'r1: rejected for the test', extra));

      // c2 stays while the client still routes /b to it: the fixed route comes first, no CDS before it...
      rig.cp.reload(config({ dropC2: true, c1Prefix: '/' }));
      const { marker: fixed, before } = await c.until(TYPE.route);
      expect(types(before)).toEqual([]);
      // ...and not before the ACK either: a listener request made now is answered first (ACKed too: the
      // removal waits for every response that could still reference c2).
      c.send({ type_url: TYPE.listener });
      const lds = await c.until(TYPE.listener);
      expect(types(lds.before)).toEqual([]);
      c.ack(lds.marker);
      c.ack(fixed, extra);
      const cds = await c.next(TYPE.cluster);
      if (protocol === 'sotw') expect(names(cds)).toEqual(['c1']);
      else expect(cds.removed).toEqual(['c2']);
    },
  );

  it('a NACK during listener changes leaves the listener set as ACKed; reverting sends the ACKed set again', async () => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: node('lds-nack'), type_url: TYPE.listener });
    const first = await c.next(TYPE.listener);
    c.ack(first);
    const cfg = structuredClone(config()) as { listeners: Array<Record<string, unknown>> };
    cfg.listeners.push({ name: 'clash', port: 10002, routeConfig: 'r1' });
    rig.cp.reload(validateConfig(cfg));
    const bad = await c.next(TYPE.listener);
    expect(names(bad)).toEqual(['clash', 'l1', 'l2']);
    await answered(TYPE.listener, () => c.nack(bad, 'clash: cannot bind'));
    rig.cp.reload(config());
    // The rejected set is not re-sent: the revert is the next LDS response.
    const { marker: back, before } = await c.until(TYPE.listener);
    expect(types(before)).toEqual([]);
    expect(names(back)).toEqual(['l1', 'l2']);
  });
});

describe('bounds', () => {
  it.each<[string, Protocol, (c: AdsTestClient) => void]>([
    [
      'SotW resource_names in one request',
      'sotw',
      (c) => c.send({ node: node('many'), type_url: TYPE.endpoint, resource_names: Array.from({ length: 11 }, (_, i) => `x${i}`) }),
    ],
    [
      'Delta subscriptions over several requests',
      'delta',
      (c) => {
        c.send({ node: node('many'), type_url: TYPE.endpoint, resource_names_subscribe: Array.from({ length: 6 }, (_, i) => `x${i}`) });
        c.send({ type_url: TYPE.route, resource_names_subscribe: Array.from({ length: 6 }, (_, i) => `y${i}`) });
      },
    ],
    [
      'Delta initial_resource_versions',
      'delta',
      (c) =>
        c.send({
          node: node('many'),
          type_url: TYPE.endpoint,
          initial_resource_versions: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`x${i}`, 'v'])),
        }),
    ],
  ])('%s over xds.maxSubscriptionsPerStream → RESOURCE_EXHAUSTED, stream closed, others served', async (_label, protocol, act) => {
    const port = await start({ xds: { maxSubscriptionsPerStream: 10 } });
    const c = client(port, protocol);
    act(c);
    const status = await c.closed;
    expect(status.code).toBe(8);
    expect(status.details).toMatch(/too many/);
    const ok = client(port, protocol);
    subscribe(ok, TYPE.endpoint, ['c1', 'c2'], true);
    expect(names(await ok.next(TYPE.endpoint))).toEqual(['c1', 'c2']);
  });

  it.each<[Protocol]>([['sotw'], ['delta']])('%s: a resource name over 1024 characters → INVALID_ARGUMENT', async (protocol) => {
    const port = await start();
    const c = client(port, protocol);
    subscribe(c, TYPE.endpoint, ['c1', 'n'.repeat(1025)], true);
    const status = await c.closed;
    expect(status.code).toBe(3);
    expect(status.details).toMatch(/resource name of 1025 characters/);
  });

  it.each([
    [1024, 'ok'],
    [1025, 'refused'],
  ])('a node.id of %i bytes is %s', async (bytes, outcome) => {
    const port = await start();
    const c = client(port, 'sotw');
    c.send({ node: { id: 'é'.repeat(Math.floor(bytes / 2)) + 'x'.repeat(bytes % 2) }, type_url: TYPE.cluster });
    if (outcome === 'ok') {
      expect(names(await c.next(TYPE.cluster))).toEqual(['c1', 'c2']);
    } else {
      const status = await c.closed;
      expect(status.code).toBe(3);
      expect(status.details).toMatch(/node\.id is 1025 bytes/);
      expect(rig.cp.ledger.proxies()).toHaveLength(0);
    }
  });

  it('keeps at most xds.ledgerMaxUnknownTypes unknown type_urls per proxy, each cut short, and truncates NACK text', async () => {
    const port = await start({ xds: { ledgerMaxUnknownTypes: 3, maxErrorDetailBytes: 100 } });
    const c = client(port, 'sotw');
    c.send({ node: node('junk'), type_url: `type.googleapis.com/junk.0.${'z'.repeat(5000)}` });
    for (let i = 1; i < 20; i++) c.send({ type_url: `type.googleapis.com/junk.${i}` });
    c.send({ type_url: TYPE.cluster });
    const r = await c.next(TYPE.cluster);
    c.nack(r, 'e'.repeat(10_000));
    const rec = await waitFor(() => rig.cp.ledger.proxies()[0]?.types[TYPE.cluster]?.lastNack && rig.cp.ledger.proxies()[0], {
      timeoutMs: 10_000,
      what: 'NACK recorded',
    });
    expect(rec.unknownTypes).toHaveLength(3);
    expect(Math.max(...rec.unknownTypes.map((t) => t.length))).toBeLessThanOrEqual(256);
    expect(rec.types[TYPE.cluster]!.lastNack!.message).toHaveLength(100);
  });

  it('bounds the records of closed streams by count and bytes', async () => {
    const port = await start({ xds: { ledgerClosedStreams: 50, ledgerClosedBytes: 4000 } });
    for (let i = 0; i < 12; i++) {
      const c = client(port, 'sotw');
      c.send({ node: node(`gone-${i}-${'p'.repeat(500)}`), type_url: TYPE.cluster });
      await c.next(TYPE.cluster);
      c.close();
    }
    await waitFor(() => rig.cp.ledger.proxies().length === 0, { timeoutMs: 10_000, what: 'all streams closed' });
    const closed = rig.cp.ledger.disconnected();
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.length).toBeLessThan(12);
    expect(JSON.stringify(closed).length).toBeLessThanOrEqual(4000);
    expect(closed.at(-1)!.nodeId).toMatch(/^gone-11-/);
  });
});
