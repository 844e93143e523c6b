import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { decodeAnyBytes, TYPE } from '../../src/xds/protos.js';
import { buildSnapshot, diffSnapshots, inconsistencies, type Snapshot } from '../../src/xds/snapshot.js';
import type { ResourceSpec } from '../../src/xds/resources.js';
import type { Config } from '../../src/config/schema.js';
import { Topology } from '../../src/xds/topology.js';
import { compareVersions, VersionClock } from '../../src/xds/versions.js';

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
    { name: 'c2', endpoints: [{ address: '127.0.0.1', port: 9003 }] },
  ],
});

function setup(now = () => 1_000_000) {
  const cache = new SnapshotCache();
  const versions = new VersionClock(now);
  const topology = new Topology(config, { cache, versions, logger: silentLogger(), debounceMs: 5, now });
  return { cache, topology };
}

describe('VersionClock', () => {
  it('is strictly increasing even when the clock stands still or goes back', () => {
    let t = 5_000;
    const clock = new VersionClock(() => t);
    const a = clock.next();
    const b = clock.next();
    t = 4_000;
    const c = clock.next();
    expect(compareVersions(b, a)).toBeGreaterThan(0);
    expect(compareVersions(c, b)).toBeGreaterThan(0);
  });

  it('never goes below an observed floor (restart with a persisted version)', () => {
    const clock = new VersionClock(() => 1);
    clock.observe('999999999');
    expect(Number(clock.next())).toBe(1_000_000_000);
  });

  it('a restart later in time issues higher versions than the previous run', () => {
    const first = new VersionClock(() => 1_000).next();
    const second = new VersionClock(() => 1_001).next();
    expect(compareVersions(second, first)).toBeGreaterThan(0);
  });
});

describe('buildSnapshot', () => {
  it('encodes every resource and versions each type', () => {
    const { cache, topology } = setup();
    const snap = topology.publishNow() as Snapshot;
    expect(cache.current()).toBe(snap);
    expect([...snap.types[TYPE.cluster].resources.keys()]).toEqual(['c1', 'c2']);
    expect([...snap.types[TYPE.endpoint].resources.keys()]).toEqual(['c1', 'c2']);
    const cla = decodeAnyBytes<{ cluster_name: string; endpoints: Array<{ lb_endpoints: unknown[] }> }>(snap.types[TYPE.endpoint].resources.get('c1')!.any);
    expect(cla.cluster_name).toBe('c1');
    expect(cla.endpoints.flatMap((e) => e.lb_endpoints)).toHaveLength(2);
  });

  it('publishes nothing when nothing changed', () => {
    const { topology } = setup();
    expect(topology.publishNow()).toBeDefined();
    expect(topology.publishNow()).toBeUndefined();
  });

  it('a one-endpoint change re-encodes only that cluster load assignment; other entries are the same objects', () => {
    const { topology } = setup();
    const a = topology.publishNow() as Snapshot;
    topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    const b = topology.publishNow() as Snapshot;
    const diff = diffSnapshots(a, b);
    expect(diff.changed[TYPE.endpoint]).toEqual(['c1']);
    expect(diff.changed[TYPE.cluster]).toEqual([]);
    expect(diff.changed[TYPE.listener]).toEqual([]);
    expect(b.types[TYPE.endpoint].resources.get('c2')).toBe(a.types[TYPE.endpoint].resources.get('c2'));
    expect(b.types[TYPE.cluster]).toBe(a.types[TYPE.cluster]);
    expect(b.types[TYPE.endpoint].version).toBe(b.version);
    expect(b.types[TYPE.cluster].version).toBe(a.version);
    expect(compareVersions(b.version, a.version)).toBeGreaterThan(0);
  });

  it('resource versions are content hashes: the same content gets the same version after a restart', () => {
    const first = setup(() => 1).topology.publishNow() as Snapshot;
    const second = setup(() => 2).topology.publishNow() as Snapshot;
    expect(second.types[TYPE.endpoint].resources.get('c1')!.version).toBe(first.types[TYPE.endpoint].resources.get('c1')!.version);
    expect(compareVersions(second.version, first.version)).toBeGreaterThan(0);
  });

  it('reports removed resources in the diff', () => {
    const { topology, cache } = setup();
    const a = topology.publishNow() as Snapshot;
    topology.replaceConfig(validateConfig({ ...structuredClone(config), clusters: [config.clusters[0]] }));
    const b = topology.publishNow() as Snapshot;
    expect(diffSnapshots(a, b).removed[TYPE.cluster]).toEqual(['c2']);
    expect(diffSnapshots(a, b).removed[TYPE.endpoint]).toEqual(['c2']);
    expect(cache.current()).toBe(b);
  });

  it('rejects duplicate resources', () => {
    const spec = { name: 'x', typeUrl: TYPE.cluster, message: { name: 'x' }, refs: [] };
    expect(() => buildSnapshot(undefined, [spec, spec], '1', 0)).toThrow(/duplicate/);
  });
});

describe('Topology', () => {
  it('coalesces many changes within the debounce window into one publish', async () => {
    const { topology, cache } = setup();
    topology.publishNow();
    let publishes = 0;
    cache.subscribe(() => publishes++);
    for (let p = 9100; p < 9150; p++) topology.setEndpoint('c2', { address: '127.0.0.1', port: p });
    await topology.flushed();
    expect(publishes).toBe(1);
    expect(topology.endpoints('c2')).toHaveLength(51);
  });

  it('refuses unknown clusters and bad endpoints with typed errors naming the field', () => {
    const { topology } = setup();
    expect(() => topology.setEndpoint('nope', { address: 'a', port: 1 })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => topology.setEndpoint('c1', { address: 'a', port: 70000 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'port' }));
    expect(() => topology.setEndpoint('c1', { address: 'a', port: 1, weight: 0 })).toThrow(expect.objectContaining({ field: 'weight' }));
  });

  it('keeps runtime endpoints and health across a config reload', () => {
    const { topology } = setup();
    topology.setEndpoint('c1', { address: '10.0.0.9', port: 80 });
    topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    topology.replaceConfig(config);
    const eps = topology.endpoints('c1');
    expect(eps.map((e) => `${e.address}:${e.port}`).sort()).toEqual(['10.0.0.9:80', '127.0.0.1:9001', '127.0.0.1:9002']);
    expect(eps.find((e) => e.port === 9001)?.health).toBe('UNHEALTHY');
  });
});

describe('consistency (every reference resolves before a snapshot is published)', () => {
  const spec = (typeUrl: string, name: string, refs: string[], variant?: 'proxyless'): ResourceSpec => ({
    name,
    typeUrl,
    refs,
    variant,
    message: typeUrl === TYPE.endpoint ? { cluster_name: name } : { name },
  });
  const good = [
    spec(TYPE.listener, 'l1', ['r1']),
    spec(TYPE.route, 'r1', ['c1']),
    spec(TYPE.cluster, 'c1', ['c1']),
    spec(TYPE.endpoint, 'c1', ['c1']),
    spec(TYPE.endpoint, 'c1', ['c1'], 'proxyless'),
  ];
  const build = (specs: ResourceSpec[]) => buildSnapshot(undefined, specs, '1', 0)!;

  it('a snapshot built from a valid config is consistent', () => {
    const { topology } = setup();
    expect(inconsistencies(topology.publishNow()!)).toEqual([]);
    expect(inconsistencies(build(good))).toEqual([]);
  });

  const [listener, route, cluster, eds, proxylessEds] = good;
  it.each([
    ['a listener whose route configuration is missing', [listener, cluster, eds, proxylessEds], 'Listener "l1" refers to RouteConfiguration "r1"'],
    ['a route whose cluster is missing', [listener, route], 'RouteConfiguration "r1" refers to Cluster "c1"'],
    ['a cluster without its assignment', [listener, route, cluster], 'Cluster "c1" refers to ClusterLoadAssignment "c1"'],
  ])('finds %s', (_what, specs, problem) => {
    expect(inconsistencies(build(specs as ResourceSpec[])).join('\n')).toContain(problem);
  });

  it('finds EDS without its cluster and a proxyless set that names other clusters', () => {
    const problems = inconsistencies(build([spec(TYPE.endpoint, 'c9', ['c9']), spec(TYPE.endpoint, 'c8', ['c8'], 'proxyless')]));
    expect(problems).toEqual(
      expect.arrayContaining([
        'ClusterLoadAssignment "c9" refers to Cluster "c9", which is not in the snapshot',
        'ClusterLoadAssignment "c9" has no proxyless variant',
        'proxyless ClusterLoadAssignment "c8" has no Envoy variant',
      ]),
    );
  });

  it('the topology keeps serving the last good snapshot when a build is inconsistent, and publishes again once fixed', () => {
    const { topology, cache } = setup();
    const first = topology.publishNow()!;
    // A config that skipped validation (library use): the route names a cluster that does not exist.
    const broken = structuredClone(config) as Config;
    (broken.routes[0]!.virtualHosts[0]!.routes[0] as { cluster: string }).cluster = 'missing';
    topology.replaceConfig(broken);
    expect(topology.publishNow()).toBeUndefined();
    expect(cache.current()).toBe(first);
    topology.replaceConfig(config);
    topology.setEndpoint('c2', { address: '127.0.0.1', port: 9200 });
    const next = topology.publishNow();
    expect(next).toBeDefined();
    expect(cache.current()).toBe(next);
  });
});

describe('content-derived type versions (replicated mode)', () => {
  function replica(clockMs: number) {
    const cache = new SnapshotCache();
    const topology = new Topology(config, {
      cache,
      versions: new VersionClock(() => clockMs),
      logger: silentLogger(),
      debounceMs: 5,
      now: () => clockMs,
      contentVersions: true,
    });
    return { cache, topology };
  }

  it('two control planes with different clocks serve the same versions for the same content, and a new one after a change', () => {
    const a = replica(1_000_000);
    const b = replica(9_000_000);
    a.topology.publishNow();
    b.topology.publishNow();
    const sa = a.cache.current()!;
    const sb = b.cache.current()!;
    expect(sa.version).not.toBe(sb.version);
    for (const t of [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route]) {
      expect(sa.types[t].version).toBe(sb.types[t].version);
      expect(sa.types[t].version).toMatch(/^c-/);
    }
    a.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    a.topology.publishNow();
    const next = a.cache.current()!;
    expect(next.types[TYPE.endpoint].version).not.toBe(sa.types[TYPE.endpoint].version);
    expect(next.types[TYPE.cluster].version).toBe(sa.types[TYPE.cluster].version);
    b.topology.setEndpoint('c1', { address: '127.0.0.1', port: 9001, health: 'UNHEALTHY' });
    b.topology.publishNow();
    expect(b.cache.current()!.types[TYPE.endpoint].version).toBe(next.types[TYPE.endpoint].version);
  });
});
