import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthmeshError, InvalidArgumentError } from '../../src/errors.js';
import type { AlertRecord, HistoryPoint } from '../../src/operations.js';
import { assignCluster, type EndpointAssignment } from '../../src/core/assignment.js';
import { decideEndpoint, initialMemory } from '../../src/core/decide.js';
import { emptySignals } from '../../src/core/model.js';
import { createMemoryStore, openSqliteStore, openStore, SCHEMA_VERSION, StoreError, type Store, type StoredRegistration } from '../../src/store/index.js';
import { migrate, MIGRATIONS } from '../../src/store/schema.js';
import { testPolicy } from '../support/policy.js';

let dir: string;
const open: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'healthmesh-store-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function track(s: Store): Store {
  open.push(s);
  return s;
}

const backends: Array<[string, () => Store]> = [
  ['file', () => track(openSqliteStore(join(dir, 'nested', `dir${open.length}`, 'store.db')))],
  ['memory', () => track(createMemoryStore())],
];

function point(key: string, at: number, extra: Partial<HistoryPoint> = {}): HistoryPoint {
  const cluster = key.split('/')[0] ?? key;
  return { key, cluster, at, score: 90, status: 'HEALTHY', circuit: 'closed', health: 'HEALTHY', weight: 10, ...extra };
}

function alert(id: string, extra: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id,
    rule: 'endpointUnhealthy',
    level: 'warning',
    subject: `c/${id}`,
    message: `${id} is down`,
    state: 'firing',
    firedAt: 1000,
    lastSeenAt: 1000,
    count: 1,
    ...extra,
  };
}

const reg = (address: string, extra: Partial<StoredRegistration> = {}): StoredRegistration => ({
  cluster: 'api',
  address,
  port: 8080,
  weight: 5,
  registeredAt: 1_700_000_000_000,
  ...extra,
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each(backends)('store semantics (%s)', (_name, make) => {
  describe('registrations', () => {
    it('saves, lists (sorted), upserts in place and deletes', () => {
      const s = make();
      expect(s.registrations()).toEqual([]);
      s.saveRegistration(reg('10.0.0.2'));
      s.saveRegistration(reg('10.0.0.1', { zone: 'z1', region: 'r1', metadata: { team: 'pay', tier: '1' } }));
      expect(s.registrations()).toStrictEqual([
        {
          cluster: 'api',
          address: '10.0.0.1',
          port: 8080,
          weight: 5,
          registeredAt: 1_700_000_000_000,
          zone: 'z1',
          region: 'r1',
          metadata: { team: 'pay', tier: '1' },
        },
        { cluster: 'api', address: '10.0.0.2', port: 8080, weight: 5, registeredAt: 1_700_000_000_000 },
      ]);

      // Same identity: replaced, not duplicated; fields left out are cleared.
      s.saveRegistration(reg('10.0.0.1', { weight: 7, registeredAt: 1 }));
      expect(s.registrations()).toStrictEqual([
        { cluster: 'api', address: '10.0.0.1', port: 8080, weight: 7, registeredAt: 1 },
        { cluster: 'api', address: '10.0.0.2', port: 8080, weight: 5, registeredAt: 1_700_000_000_000 },
      ]);

      // Identity is (cluster, address, port).
      s.saveRegistration(reg('10.0.0.1', { port: 9090 }));
      s.saveRegistration(reg('10.0.0.1', { cluster: 'web' }));
      expect(s.registrations()).toHaveLength(4);

      expect(s.deleteRegistration('api', '10.0.0.1', 9090)).toBe(true);
      expect(s.deleteRegistration('api', '10.0.0.1', 9090)).toBe(false);
      expect(s.deleteRegistration('nope', '10.0.0.1', 8080)).toBe(false);
      expect(s.registrations().map((r) => `${r.cluster}/${r.address}:${r.port}`)).toEqual(['api/10.0.0.1:8080', 'api/10.0.0.2:8080', 'web/10.0.0.1:8080']);
    });

    it('is idempotent: saving the same registration twice leaves one identical row', () => {
      const s = make();
      const r = reg('10.0.0.9', { metadata: { a: 'b' } });
      s.saveRegistration(r);
      const once = s.registrations();
      s.saveRegistration(r);
      expect(s.registrations()).toStrictEqual(once);
      expect(once).toHaveLength(1);
    });
  });

  describe('history', () => {
    it('returns one endpoint oldest first; `limit` keeps the newest points; from/to are inclusive', () => {
      const s = make();
      s.appendHistory([10, 20, 30, 40, 50].map((at) => point('c/a:1', at)));
      s.appendHistory([15, 25].map((at) => point('c/b:1', at)));
      const ats = (q?: Parameters<Store['history']>[1]) => s.history('c/a:1', q).map((p) => p.at);

      expect(ats()).toEqual([10, 20, 30, 40, 50]);
      expect(ats({ limit: 2 })).toEqual([40, 50]);
      expect(ats({ limit: 100 })).toEqual([10, 20, 30, 40, 50]);
      expect(ats({ limit: 0 })).toEqual([]);
      expect(ats({ from: 20, to: 40 })).toEqual([20, 30, 40]);
      expect(ats({ from: 21, to: 39 })).toEqual([30]);
      expect(ats({ from: 20, to: 40, limit: 2 })).toEqual([30, 40]);
      expect(ats({ to: 25 })).toEqual([10, 20]);
      expect(ats({ from: 45 })).toEqual([50]);
      expect(ats({ from: 60 })).toEqual([]);
      expect(s.history('c/none:1')).toEqual([]);
    });

    it('round-trips every field, and leaves absent optional fields absent', () => {
      const s = make();
      const full = point('c/a:1', 1, {
        score: 42.5,
        status: 'DEGRADED',
        circuit: 'half-open',
        health: 'DEGRADED',
        weight: 3,
        latencyMs: 12.25,
        errorRate: 0.125,
        cpuPercent: 71,
        memoryPercent: 64.5,
        diskPercent: 90,
        heartbeatAgeS: 2.5,
        reasons: ['p99 1.8s > 500ms', 'errors 12% > 5%'],
      });
      const bare = point('c/a:1', 2, { reasons: [] });
      const minimal = point('c/a:1', 3);
      s.appendHistory([full, bare, minimal]);
      expect(s.history('c/a:1')).toStrictEqual([full, bare, minimal]);
    });

    it('keeps insertion order for equal timestamps', () => {
      const s = make();
      s.appendHistory([point('c/a:1', 5, { score: 1 }), point('c/a:1', 5, { score: 2 })]);
      s.appendHistory([point('c/a:1', 5, { score: 3 })]);
      expect(s.history('c/a:1').map((p) => p.score)).toEqual([1, 2, 3]);
      expect(s.history('c/a:1', { limit: 2 }).map((p) => p.score)).toEqual([2, 3]);
    });

    it('historyRange orders by key then time, filters by cluster and range, across page boundaries', () => {
      const s = make();
      const keys = ['b/z:1', 'a/y:1', 'a/x:1', 'b/w:1'];
      // 2,600 points per key with runs of equal timestamps, inserted interleaved across keys.
      for (let chunk = 0; chunk < 26; chunk++) {
        const batch: HistoryPoint[] = [];
        for (let i = chunk * 100; i < (chunk + 1) * 100; i++) for (const k of keys) batch.push(point(k, Math.floor(i / 7), { score: i }));
        s.appendHistory(batch);
      }
      const all = [...s.historyRange({ from: 0, to: 1e12 })];
      expect(all).toHaveLength(4 * 2600);
      expect([...new Set(all.map((p) => p.key))]).toEqual(['a/x:1', 'a/y:1', 'b/w:1', 'b/z:1']);
      for (const k of keys) {
        const scores = all.filter((p) => p.key === k).map((p) => p.score);
        expect(scores).toEqual(Array.from({ length: 2600 }, (_, i) => i));
      }

      const a = [...s.historyRange({ from: 100, to: 199, cluster: 'a' })];
      expect(new Set(a.map((p) => p.cluster))).toEqual(new Set(['a']));
      expect(a.every((p) => p.at >= 100 && p.at <= 199)).toBe(true);
      expect(a).toHaveLength(2 * 700);
      expect([...s.historyRange({ from: 0, to: 1e12, cluster: 'none' })]).toEqual([]);
    });

    it('historyRange holds no cursor: writes succeed while a range is being consumed', () => {
      const s = make();
      s.appendHistory(Array.from({ length: 3000 }, (_, i) => point('c/a:1', i)));
      const it = s.historyRange({ from: 0, to: 1e12 });
      expect(it.next().value?.at).toBe(0);
      s.appendHistory([point('c/b:1', 1)]);
      s.saveRegistration(reg('10.1.1.1'));
      s.saveVersionFloor('7');
      let n = 1;
      for (let r = it.next(); !r.done; r = it.next()) n++;
      expect(n).toBe(3001); // the key appended mid-way sorts after the current one and is included
    });

    it('historyKeys lists keys with points in the range, optionally of one cluster', () => {
      const s = make();
      s.appendHistory([point('a/1:1', 10), point('a/2:1', 50), point('b/3:1', 30), point('a/1:1', 90)]);
      expect(s.historyKeys({ from: 0, to: 100 })).toEqual(['a/1:1', 'a/2:1', 'b/3:1']);
      expect(s.historyKeys({ from: 20, to: 40 })).toEqual(['b/3:1']);
      expect(s.historyKeys({ from: 50, to: 50 })).toEqual(['a/2:1']);
      expect(s.historyKeys({ from: 60, to: 80 })).toEqual([]);
      expect(s.historyKeys({ from: 0, to: 100, cluster: 'a' })).toEqual(['a/1:1', 'a/2:1']);
      expect(s.historyKeys({ from: 0, to: 40, cluster: 'a' })).toEqual(['a/1:1']);
      expect(s.historyKeys({ from: 0, to: 100, cluster: 'c' })).toEqual([]);
    });
  });

  describe('alerts', () => {
    it('upserts by id and filters by state and by overlap with [from, to]', () => {
      const s = make();
      s.saveAlert(alert('a1', { firedAt: 100, lastSeenAt: 100 }));
      s.saveAlert(alert('a2', { firedAt: 200, lastSeenAt: 250, state: 'resolved', resolvedAt: 300, cluster: 'c' }));
      s.saveAlert(alert('a3', { firedAt: 500, lastSeenAt: 500 }));
      // Re-raised while firing: same id, updated in place.
      const a1 = alert('a1', { firedAt: 100, lastSeenAt: 400, count: 3, acknowledgedAt: 410, acknowledgedBy: 'ops' });
      s.saveAlert(a1);

      expect(s.alerts().map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
      expect(s.alerts()[0]).toStrictEqual(a1);
      expect(s.alerts()[1]).toStrictEqual(alert('a2', { firedAt: 200, lastSeenAt: 250, state: 'resolved', resolvedAt: 300, cluster: 'c' }));
      expect(s.alerts({ state: 'firing' }).map((a) => a.id)).toEqual(['a1', 'a3']);
      expect(s.alerts({ state: 'resolved' }).map((a) => a.id)).toEqual(['a2']);

      const ids = (q: Parameters<Store['alerts']>[0]) => s.alerts(q).map((a) => a.id);
      expect(ids({ from: 301 })).toEqual(['a1', 'a3']); // a2 resolved before
      expect(ids({ from: 300 })).toEqual(['a1', 'a2', 'a3']);
      expect(ids({ to: 199 })).toEqual(['a1']); // fired later
      expect(ids({ from: 150, to: 250 })).toEqual(['a1', 'a2']);
      expect(ids({ from: 150, to: 250, state: 'resolved' })).toEqual(['a2']);
    });
  });

  describe('version floor', () => {
    it.each([
      [['5'], '5'],
      [['5', '3'], '5'],
      [['5', '5'], '5'],
      [['9', '10'], '10'], // numeric, not lexicographic
      [['10', '9'], '10'],
      [['1763000000000000', '1763000000000001'], '1763000000000001'],
      [['9007199254740993', '9007199254740992'], '9007199254740993'], // beyond 2^53
      [['007'], '7'],
    ])('only rises: %j -> %s', (versions, expected) => {
      const s = make();
      expect(s.versionFloor()).toBeUndefined();
      for (const v of versions) s.saveVersionFloor(v);
      expect(s.versionFloor()).toBe(expected);
    });

    it.each(['', 'abc', '-1', '1.5', '1e9', ' 1'])('refuses %j', (v) => {
      const s = make();
      expect(() => s.saveVersionFloor(v)).toThrow(InvalidArgumentError);
      expect(s.versionFloor()).toBeUndefined();
    });
  });

  describe('cleanup', () => {
    // now is minute-aligned; retention: history 10 h, full resolution 2 h, resolved alerts 5 h.
    const now = 1_000 * HOUR;
    const retention = { historyMs: 10 * HOUR, fullResolutionMs: 2 * HOUR, alertsMs: 5 * HOUR };
    const hCut = now - retention.historyMs;
    const fCut = now - retention.fullResolutionMs;

    type Case = { name: string; points: Array<[string, number]>; kept: Array<[string, number]>; deleted: number; downsampled: number };
    const cases: Case[] = [
      {
        name: 'older than historyMs is deleted',
        points: [
          ['c/a:1', hCut - 1],
          ['c/a:1', hCut - 5 * HOUR],
        ],
        kept: [],
        deleted: 2,
        downsampled: 0,
      },
      { name: 'exactly historyMs old is kept', points: [['c/a:1', hCut]], kept: [['c/a:1', hCut]], deleted: 0, downsampled: 0 },
      {
        name: 'within full resolution everything is kept',
        points: [
          ['c/a:1', fCut],
          ['c/a:1', fCut + 1],
          ['c/a:1', fCut + 10_000],
          ['c/a:1', now],
        ],
        kept: [
          ['c/a:1', fCut],
          ['c/a:1', fCut + 1],
          ['c/a:1', fCut + 10_000],
          ['c/a:1', now],
        ],
        deleted: 0,
        downsampled: 0,
      },
      {
        name: 'older than full resolution keeps the first point of each minute',
        points: [
          ['c/a:1', fCut - 50_000],
          ['c/a:1', fCut - 30_000],
          ['c/a:1', fCut - 1],
          ['c/a:1', fCut - MINUTE - 1],
          ['c/a:1', fCut - 2 * MINUTE],
        ],
        kept: [
          ['c/a:1', fCut - 2 * MINUTE],
          ['c/a:1', fCut - 50_000],
        ],
        deleted: 0,
        downsampled: 3,
      },
      {
        name: 'minutes are per endpoint',
        points: [
          ['c/a:1', fCut - 40_000],
          ['c/b:1', fCut - 30_000],
          ['c/a:1', fCut - 20_000],
          ['c/b:1', fCut - 10_000],
        ],
        kept: [
          ['c/a:1', fCut - 40_000],
          ['c/b:1', fCut - 30_000],
        ],
        deleted: 0,
        downsampled: 2,
      },
      {
        name: 'minutes are aligned to the clock: 59.999 s and 60 s are different minutes',
        points: [
          ['c/a:1', fCut - HOUR + 59_999],
          ['c/a:1', fCut - HOUR + 60_000],
          ['c/a:1', fCut - HOUR + 60_001],
        ],
        kept: [
          ['c/a:1', fCut - HOUR + 59_999],
          ['c/a:1', fCut - HOUR + 60_000],
        ],
        deleted: 0,
        downsampled: 1,
      },
      {
        name: 'the minute at the history boundary keeps its first surviving point',
        points: [
          ['c/a:1', hCut - 1],
          ['c/a:1', hCut],
          ['c/a:1', hCut + 1],
        ],
        kept: [['c/a:1', hCut]],
        deleted: 1,
        downsampled: 1,
      },
      {
        name: 'equal timestamps in a minute: the first inserted stays',
        points: [
          ['c/a:1', fCut - 30_000],
          ['c/a:1', fCut - 30_000],
        ],
        kept: [['c/a:1', fCut - 30_000]],
        deleted: 0,
        downsampled: 1,
      },
    ];

    it.each(cases)('$name', ({ points, kept, deleted, downsampled }) => {
      const s = make();
      s.appendHistory(points.map(([k, at], i) => point(k, at, { score: i })));
      expect(s.cleanup(now, retention)).toEqual({ historyDeleted: deleted, historyDownsampled: downsampled, alertsDeleted: 0 });
      const left = [...s.historyRange({ from: -1e15, to: 1e15 })].map((p) => [p.key, p.at]);
      expect(left).toEqual([...kept].sort((x, y) => (x[0] === y[0] ? (x[1] as number) - (y[1] as number) : x[0]! < y[0]! ? -1 : 1)));
      // Running it again changes nothing.
      expect(s.cleanup(now, retention)).toEqual({ historyDeleted: 0, historyDownsampled: 0, alertsDeleted: 0 });
    });

    it('a minute straddling the cut keeps its first point when a later cut passes the rest of it', () => {
      const s = make();
      // The minute [fCut, fCut + 60 s); the first cleanup cuts it in the middle.
      s.appendHistory([point('c/a:1', fCut + 10_000), point('c/a:1', fCut + 40_000), point('c/a:1', fCut + 50_000)]);
      expect(s.cleanup(now + 30_000, retention).historyDownsampled).toBe(0);
      expect(s.cleanup(now + 10 * MINUTE, retention).historyDownsampled).toBe(2);
      expect(s.history('c/a:1').map((p) => p.at)).toEqual([fCut + 10_000]);
    });

    it('repeated cleanups as time passes leave the same points as one cleanup at the end', () => {
      const start = now;
      const samples = (): HistoryPoint[] => {
        const out: HistoryPoint[] = [];
        for (let at = start - 11 * HOUR; at < start + HOUR; at += 7_000) for (const k of ['c/a:1', 'c/b:1']) out.push(point(k, at));
        return out;
      };
      const stepwise = make();
      const once = make();
      stepwise.appendHistory(samples());
      once.appendHistory(samples());
      // Rows removed in total agree (stepwise, some are downsampled first and deleted later).
      let removed = 0;
      const end = start + HOUR;
      for (let t = start; t < end; t += 10 * MINUTE + 7_123) {
        const r = stepwise.cleanup(t, retention);
        removed += r.historyDeleted + r.historyDownsampled;
      }
      const rs = stepwise.cleanup(end, retention);
      const ro = once.cleanup(end, retention);
      expect(removed + rs.historyDeleted + rs.historyDownsampled).toBe(ro.historyDeleted + ro.historyDownsampled);
      const all = (st: Store) => [...st.historyRange({ from: -1e15, to: 1e15 })].map((p) => `${p.key}@${p.at}`);
      expect(all(stepwise)).toEqual(all(once));
      // And the invariant itself: before the cut, one point per endpoint per minute.
      const old = [...once.historyRange({ from: -1e15, to: end - retention.fullResolutionMs - 1 })];
      expect(new Set(old.map((p) => `${p.key}@${Math.floor(p.at / MINUTE)}`)).size).toBe(old.length);
    });

    it('does not downsample when full resolution covers the whole history', () => {
      const s = make();
      s.appendHistory([point('c/a:1', now - 3 * HOUR), point('c/a:1', now - 3 * HOUR + 1)]);
      expect(s.cleanup(now, { historyMs: 4 * HOUR, fullResolutionMs: 4 * HOUR, alertsMs: HOUR })).toEqual({
        historyDeleted: 0,
        historyDownsampled: 0,
        alertsDeleted: 0,
      });
      expect(s.cleanup(now, { historyMs: 2 * HOUR, fullResolutionMs: 5 * HOUR, alertsMs: HOUR }).historyDeleted).toBe(2);
    });

    it('deletes resolved alerts older than alertsMs, never firing ones', () => {
      const s = make();
      const aCut = now - retention.alertsMs;
      s.saveAlert(alert('old-resolved', { firedAt: aCut - HOUR, lastSeenAt: aCut - HOUR, state: 'resolved', resolvedAt: aCut - 1 }));
      s.saveAlert(alert('boundary', { firedAt: aCut - HOUR, lastSeenAt: aCut - HOUR, state: 'resolved', resolvedAt: aCut }));
      s.saveAlert(alert('recent', { firedAt: aCut - HOUR, lastSeenAt: now, state: 'resolved', resolvedAt: now - 1 }));
      s.saveAlert(alert('old-firing', { firedAt: aCut - 100 * HOUR, lastSeenAt: aCut - 100 * HOUR }));
      s.saveAlert(alert('no-resolved-at', { firedAt: aCut - 2 * HOUR, lastSeenAt: aCut - HOUR, state: 'resolved' }));
      expect(s.cleanup(now, retention)).toEqual({ historyDeleted: 0, historyDownsampled: 0, alertsDeleted: 2 });
      expect(
        s
          .alerts()
          .map((a) => a.id)
          .sort(),
      ).toEqual(['boundary', 'old-firing', 'recent']);
    });
  });

  it('close() is idempotent and later calls fail with a typed error', () => {
    const s = make();
    s.close();
    s.close();
    expect(() => s.registrations()).toThrow(StoreError);
    expect(() => s.appendHistory([point('c/a:1', 1)])).toThrow(/after close/);
    expect(() => s.historyRange({ from: 0, to: 1 })).toThrow(StoreError);
  });
});

describe('store file', () => {
  it('keeps everything across close and reopen, without re-running migrations', () => {
    const path = join(dir, 'data', 'healthmesh.db');
    const a = openSqliteStore(path);
    a.saveRegistration(reg('10.0.0.1', { metadata: { k: 'v' } }));
    a.appendHistory([point('c/a:1', 1, { reasons: ['x'] }), point('c/a:1', 2)]);
    a.saveAlert(alert('a1'));
    a.saveVersionFloor('1763000000000000');
    a.close();

    const b = track(openStore({ path }));
    expect(b.registrations()).toStrictEqual([reg('10.0.0.1', { metadata: { k: 'v' } })]);
    expect(b.history('c/a:1')).toStrictEqual([point('c/a:1', 1, { reasons: ['x'] }), point('c/a:1', 2)]);
    expect(b.alerts()).toStrictEqual([alert('a1')]);
    expect(b.versionFloor()).toBe('1763000000000000');
    b.close();

    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare('SELECT version FROM schema_version').pluck().all()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(SCHEMA_VERSION).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('refuses a database written by a newer schema, naming the file and both versions', () => {
    const path = join(dir, 'future.db');
    openSqliteStore(path).close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_version (version, applied_at, description) VALUES (99, 0, 'from the future')").run();
    raw.close();

    let err: unknown;
    try {
      openSqliteStore(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toBeInstanceOf(HealthmeshError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', reason: 'schema-too-new', path });
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(`schema version 99 is newer than this healthmesh supports (${SCHEMA_VERSION})`);
  });

  it.each([
    [
      'a regular file where a parent directory should be',
      (d: string) => (writeFileSync(join(d, 'afile'), 'x'), join(d, 'afile', 'sub', 'store.db')),
      'unwritable',
    ],
    ['a directory at the database path', (d: string) => (mkdirSync(join(d, 'isdir')), join(d, 'isdir')), 'unwritable'],
    ['a file that is not a database', (d: string) => (writeFileSync(join(d, 'garbage.db'), 'not a database '.repeat(512)), join(d, 'garbage.db')), 'corrupt'],
  ])('an unusable path (%s) gives a typed error naming it', (_what, prepare, reason) => {
    const path = prepare(dir);
    let err: unknown;
    try {
      track(openSqliteStore(path));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', reason, path, details: { path, reason } });
    expect((err as Error).message).toContain(path);
  });
});

describe('assignments', () => {
  function assignment(key: string, at: number): EndpointAssignment {
    const { memory, decision } = decideEndpoint(initialMemory(at), emptySignals(false), testPolicy(), 100, at);
    const a = assignCluster('c', [{ key, decision, memory, drained: key.endsWith(':2') }], { guard: { maxEjectedPercent: 50 }, minWeightPercent: 10 }, at);
    return a.endpoints.get(key)!;
  }

  it('round-trips puts and removals with the version floor in one batch', () => {
    const store = track(openSqliteStore(join(dir, 'a.db')));
    const a1 = assignment('c/10.0.0.1:1', 1000);
    const a2 = assignment('c/10.0.0.1:2', 1000);
    store.saveAssignments({ at: 5000, put: [a1, a2], remove: [], versionFloor: '1763000000000001' });
    store.saveAssignments({ at: 6000, put: [], remove: ['c/10.0.0.1:1'] });
    expect(store.assignments()).toStrictEqual([{ assignment: JSON.parse(JSON.stringify(a2)), savedAt: 5000 }]);
    expect(store.versionFloor()).toBe('1763000000000001');
  });

  it('a store written by the previous release (schema 1) is migrated, not discarded', () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(old, path, () => 1, MIGRATIONS.slice(0, 1));
    old
      .prepare('INSERT INTO registrations (cluster, address, port, weight, zone, region, metadata, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run('c', '10.0.0.9', 80, 2, null, null, null, 123);
    old.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run('version_floor', '1700000000000000');
    old.close();

    const store = track(openSqliteStore(path));
    expect(store.registrations()).toStrictEqual([{ cluster: 'c', address: '10.0.0.9', port: 80, weight: 2, registeredAt: 123 }]);
    expect(store.versionFloor()).toBe('1700000000000000');
    expect(store.assignments()).toStrictEqual([]);
    const a = assignment('c/10.0.0.9:80', 1000);
    store.saveAssignments({ at: 2000, put: [a], remove: [] });
    expect(store.assignments()).toHaveLength(1);
  });
});
