import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../src/log.js';
import { LogThrottle } from '../../src/log-throttle.js';
import { AdsState, SubscriptionLimitError, type ResponseOut } from '../../src/xds/ads-state.js';
import { TYPE } from '../../src/xds/protos.js';
import type { ResourceSpec } from '../../src/xds/resources.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { clusterSpec, routeSpec } from '../support/xds-specs.js';

/** The pure ADS state machine: requests and snapshots in, responses out. */
const cluster = clusterSpec;
const route = routeSpec;

let v = 0;
function snap(prev: Snapshot | undefined, specs: ResourceSpec[]): Snapshot {
  return buildSnapshot(prev, specs, String(++v), 0) ?? prev!;
}
function drain(s: AdsState, snapshot: Snapshot): ResponseOut[] {
  const out: ResponseOut[] = [];
  const done = new Set<ResponseOut['typeUrl']>();
  for (let r = s.next(snapshot, done); r; r = s.next(snapshot, done)) {
    out.push(r);
    done.add(r.typeUrl);
  }
  return out;
}
const names = (r: ResponseOut | undefined) => r?.resources.map((e) => e.name).sort();

describe('AdsState', () => {
  it('SotW named CDS: every response carries the whole subscribed set', () => {
    const s = new AdsState('sotw', { maxSubscriptions: 100 }, 't');
    let snapshot = snap(undefined, [cluster('a'), cluster('b')]);
    s.onRequest({ typeUrl: TYPE.cluster, resourceNames: ['a'] });
    const [r1] = drain(s, snapshot);
    expect(names(r1)).toEqual(['a']);
    s.onRequest({ typeUrl: TYPE.cluster, nonce: r1!.nonce, resourceNames: ['a', 'b'] });
    expect(names(drain(s, snapshot)[0])).toEqual(['a', 'b']);
    snapshot = snap(snapshot, [cluster('a'), cluster('b', 2)]);
    expect(names(drain(s, snapshot)[0])).toEqual(['a', 'b']);
  });

  it('NACK: the rejected change is not re-sent; a fix back to the ACKed content is', () => {
    const s = new AdsState('sotw', { maxSubscriptions: 100 }, 't');
    const good = snap(undefined, [cluster('a'), cluster('b')]);
    s.onRequest({ typeUrl: TYPE.cluster, resourceNames: [] });
    const [r1] = drain(s, good);
    expect(s.onRequest({ typeUrl: TYPE.cluster, nonce: r1!.nonce })).toMatchObject({ kind: 'ack' });
    const bad = snap(good, [cluster('a', 9), cluster('b')]);
    const [r2] = drain(s, bad);
    expect(s.onRequest({ typeUrl: TYPE.cluster, nonce: r2!.nonce, error: { code: 3, message: 'no' } })).toMatchObject({ kind: 'nack', resources: ['a', 'b'] });
    expect(drain(s, bad)).toEqual([]);
    // The fix restores a's ACKed content: a goes again (the client may have applied the rejected one).
    const [fix] = drain(s, snap(bad, [cluster('a'), cluster('b')]));
    expect(fix!.resources.find((e) => e.name === 'a')?.version).toBe(good.types[TYPE.cluster].resources.get('a')!.version);
  });

  it('NACK: while the rejected change stands, full-state responses carry the ACKed entry', () => {
    const s = new AdsState('sotw', { maxSubscriptions: 100 }, 't');
    const good = snap(undefined, [cluster('a'), cluster('b')]);
    s.onRequest({ typeUrl: TYPE.cluster, resourceNames: [] });
    const [r1] = drain(s, good);
    s.onRequest({ typeUrl: TYPE.cluster, nonce: r1!.nonce });
    const bad = snap(good, [cluster('a', 9), cluster('b')]);
    const [r2] = drain(s, bad);
    s.onRequest({ typeUrl: TYPE.cluster, nonce: r2!.nonce, error: { code: 3, message: 'no' } });
    const [r3] = drain(s, snap(bad, [cluster('a', 9), cluster('b', 3)]));
    expect(names(r3)).toEqual(['a', 'b']);
    expect(r3!.resources.find((e) => e.name === 'a')).toBe(good.types[TYPE.cluster].resources.get('a'));
  });

  it.each([
    ['sotw', 'CDS (full state)', [0]],
    ['sotw', 'CDS (full state)', [63]],
    ['sotw', 'CDS (full state)', [17, 40]],
    ['sotw', 'RDS', [5]],
    ['delta', 'CDS', [0]],
    ['delta', 'RDS', [31, 32]],
  ] as const)('%s %s: a NACK of 64 changes is bisected; the rejected %j are found in ~2·log2(64) round trips, the rest land', (protocol, kind, badIdx) => {
    const N = 64;
    const typeUrl = kind === 'RDS' ? TYPE.route : TYPE.cluster;
    const spec = (i: number, gen: number) => (typeUrl === TYPE.route ? route(`r${i}`, [`c${i}x${gen}`]) : cluster(`c${i}`, gen));
    const all = [...Array(N).keys()];
    const s = new AdsState(protocol, { maxSubscriptions: 1000 }, 't');
    const good = snap(
      undefined,
      all.map((i) => spec(i, 1)),
    );
    const names = typeUrl === TYPE.route ? all.map((i) => `r${i}`) : [];
    // SotW repeats its subscription on every request; Delta subscribes once.
    const sub = protocol === 'sotw' ? { resourceNames: names } : {};
    s.onRequest({ typeUrl, ...(protocol === 'sotw' ? { resourceNames: names } : { subscribe: names.length > 0 ? names : ['*'] }) });
    const [first] = drain(s, good);
    s.onRequest({ typeUrl, nonce: first!.nonce, ...sub });
    const next = snap(
      good,
      all.map((i) => spec(i, 2)),
    );
    const newVersion = (name: string) => next.types[typeUrl].resources.get(name)!.version;
    const bad = new Set(badIdx.map((i) => (typeUrl === TYPE.route ? `r${i}` : `c${i}`)));
    const held = new Map<string, string>(); // what the client applied: name → version
    let rounds = 0;
    for (let out = drain(s, next); out.length > 0 && rounds < 200; out = drain(s, next), rounds++) {
      const r = out[0]!;
      const advanced = r.resources.filter((e) => e.version === newVersion(e.name)).map((e) => e.name);
      const nack = advanced.some((n) => bad.has(n));
      if (!nack) for (const e of r.resources) held.set(e.name, e.version);
      s.onRequest({ typeUrl, nonce: r.nonce, ...sub, ...(nack ? { error: { code: 3, message: 'rejected' } } : {}) });
    }
    // One-by-one retries would take ~N round trips; bisection ~2·log2(N) per rejected change.
    expect(rounds).toBeLessThanOrEqual(1 + bad.size * (2 * Math.log2(N) + 1));
    for (const [name, e] of next.types[typeUrl].resources) if (!bad.has(name)) expect(held.get(name), name).toBe(e.version);
    for (const name of bad) expect(held.get(name) ?? 'old', name).not.toBe(newVersion(name));
    expect(drain(s, next)).toEqual([]); // the rejected versions are not re-sent
  });

  it('make-before-break waits for the ACK of the route update, not its sending', () => {
    const s = new AdsState('delta', { maxSubscriptions: 100 }, 't');
    const s1 = snap(undefined, [cluster('a'), cluster('b'), route('r', ['a', 'b'])]);
    s.onRequest({ typeUrl: TYPE.cluster });
    s.onRequest({ typeUrl: TYPE.route, subscribe: ['r'] });
    for (const r of drain(s, s1)) s.onRequest({ typeUrl: r.typeUrl, nonce: r.nonce });
    const s2 = snap(s1, [cluster('a'), route('r', ['a'])]);
    const [rds] = drain(s, s2);
    expect(rds!.typeUrl).toBe(TYPE.route);
    expect(drain(s, s2)).toEqual([]); // b stays while the route update is in flight
    s.onRequest({ typeUrl: TYPE.route, nonce: rds!.nonce, error: { code: 3, message: 'no' } });
    expect(drain(s, s2)).toEqual([]); // ...and after it was NACKed
    const s3 = snap(s2, [cluster('a'), route('r', ['a', 'a'])]);
    const [rds2] = drain(s, s3);
    s.onRequest({ typeUrl: TYPE.route, nonce: rds2!.nonce });
    const [cds] = drain(s, s3);
    expect(cds).toMatchObject({ typeUrl: TYPE.cluster, removed: ['b'], resources: [] });
  });

  it('caps subscriptions per stream', () => {
    const s = new AdsState('delta', { maxSubscriptions: 3 }, 't');
    s.onRequest({ typeUrl: TYPE.endpoint, subscribe: ['a', 'b'] });
    expect(() => s.onRequest({ typeUrl: TYPE.route, subscribe: ['c', 'd'] })).toThrow(SubscriptionLimitError);
  });
});

describe('LogThrottle', () => {
  it('lets a burst through per window, then one summary with the suppressed count', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = { ...silentLogger(), warn: (f: Record<string, unknown>) => lines.push(f) } as unknown as Logger;
    let t = 0;
    const th = new LogThrottle(logger, 1000, () => t, 3);
    for (let i = 0; i < 1000; i++) th.warn({ i }, 'x');
    expect(lines).toHaveLength(3);
    t = 1000;
    th.warn({ i: 'next' }, 'x');
    expect(lines.at(-1)).toEqual({ i: 'next', suppressed: 997 });
  });
});
