/**
 * The Store over one SQLite file (better-sqlite3: synchronous, one connection).
 *
 * Durability: WAL with synchronous=NORMAL for the high-volume writes (history, alerts, cleanup),
 * and synchronous=FULL around the writes that must survive a crash once acknowledged
 * (registrations, deregistrations): their commit fsyncs the WAL, which also covers every earlier
 * NORMAL commit in it. Assignments and the xDS version floor are written ahead of each snapshot with
 * NORMAL: a killed process loses none of them (WAL), an OS crash at most the commits since the last sync.
 *
 * Reads never leave a statement open between calls: `historyRange` pages through the (key, at)
 * index instead of holding a `.iterate()` cursor, because better-sqlite3 refuses every write on a
 * connection with an open cursor ("connection is busy") and a report streamed to a slow HTTP client
 * would otherwise stall history sampling and registrations for as long as the client takes.
 *
 * Time ranges are inclusive at both ends.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidArgumentError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { AlertRecord, HistoryPoint, HistoryQuery } from '../operations.js';
import { closedError, storeError } from './errors.js';
import {
  alertParams,
  HISTORY_COLUMNS,
  historyParams,
  registrationParams,
  ROLLUP_COLUMNS,
  rollupParams,
  toAlert,
  toPoint,
  toRegistration,
  toRollup,
  type AlertRow,
  type HistoryRow,
  type RegistrationRow,
} from './rows.js';
import { ROLLUP_MS, rollupBucket, RollupWriter, type Rollup } from './rollup.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import type { EndpointAssignment } from '../core/assignment.js';
import type { AssignmentBatch, RegistrationOp, RangeQuery, RetentionPolicy, Store, StoredAssignment, StoredRegistration } from './types.js';

export interface StoreOptions {
  logger?: Logger | undefined;
  /** Wall clock (ms since epoch), recorded with applied migrations. */
  now?: (() => number) | undefined;
}

const MINUTE = 60_000;
/** Rows fetched per step of `historyRange`: bounds memory and the time the connection is held. */
const RANGE_PAGE = 1000;
const MIN_TIME = -8.64e15;
const MAX_TIME = 8.64e15;
const VERSION = /^\d{1,30}$/;
const META_VERSION_FLOOR = 'version_floor';
/** End of the last downsampled window: each cleanup only downsamples what is new since then. */
const META_DOWNSAMPLED_UNTIL = 'downsampled_until';
/** Start of the first window whose roll-up saw every point (history written before the roll-ups existed is not in them). */
const META_ROLLUPS_FROM = 'rollups_from';

const isMemory = (path: string): boolean => path === ':memory:' || path === '';

/** Opens (creating the file, its directory and the schema when needed) the store at `path`. */
export function openSqliteStore(path: string, opts: StoreOptions = {}): Store {
  const log = (opts.logger ?? silentLogger()).child({ component: 'store', path });
  const now = opts.now ?? Date.now;
  let db: Database.Database | undefined;
  try {
    if (!isMemory(path)) mkdirSync(dirname(resolve(path)), { recursive: true });
    db = new Database(path);
    // Must precede the first table; ignored on an existing file.
    db.pragma('auto_vacuum = INCREMENTAL');
    const journal = String(db.pragma('journal_mode = WAL', { simple: true }));
    if (!isMemory(path) && journal !== 'wal') log.warn({ journal }, 'WAL journal mode unavailable; writers will block readers');
    db.pragma('synchronous = NORMAL');
    // Each history batch dirties one (key, at) index leaf per endpoint; checkpointing every 32 MiB
    // instead of every 4 MiB writes each such page to the database file once per many batches.
    db.pragma('wal_autocheckpoint = 8192');
    db.pragma('journal_size_limit = 67108864');
    const applied = migrate(db, path, now);
    const store = createSqliteStore(db, path, log);
    log.info({ schemaVersion: SCHEMA_VERSION, migrationsApplied: applied, journal }, 'store opened');
    return store;
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already failing; the original error matters
    }
    throw storeError(path, 'open', err);
  }
}

function createSqliteStore(db: Database.Database, path: string, log: Logger): Store {
  const syncFull = db.prepare('PRAGMA synchronous = FULL');
  const syncNormal = db.prepare('PRAGMA synchronous = NORMAL');

  const upsertRegistration = db.prepare(
    `INSERT INTO registrations (cluster, address, port, weight, zone, region, metadata, registered_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (cluster, address, port) DO UPDATE SET
       weight = excluded.weight, zone = excluded.zone, region = excluded.region,
       metadata = excluded.metadata, registered_at = excluded.registered_at`,
  );
  const deleteRegistration = db.prepare('DELETE FROM registrations WHERE cluster = ? AND address = ? AND port = ?');
  const allRegistrations = db.prepare<[], RegistrationRow>('SELECT * FROM registrations ORDER BY cluster, address, port');

  const insertHistory = db.prepare(
    `INSERT INTO history (key, cluster, at, score, status, circuit, health, weight, latency_ms, error_rate, cpu, memory, disk, heartbeat_age_s, reasons)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const newestHistory = db.prepare<{ key: string; from: number; to: number; limit: number }, HistoryRow>(
    `SELECT ${HISTORY_COLUMNS} FROM history INDEXED BY history_key_at
     WHERE key = @key AND at >= @from AND at <= @to ORDER BY at DESC, id DESC LIMIT @limit`,
  );
  const historyPage = db.prepare<{ key: string; from: number; to: number; after: number; limit: number; cluster: string | null }, HistoryRow>(
    `SELECT ${HISTORY_COLUMNS} FROM history INDEXED BY history_key_at
     WHERE key = @key AND at >= @from AND at <= @to AND NOT (at = @from AND id <= @after)
       AND (@cluster IS NULL OR cluster = @cluster)
     ORDER BY at, id LIMIT @limit`,
  );
  // Distinct keys by skipping through the (key, at) index: one seek per key, not a scan per row.
  const firstKey = db.prepare<[], string | null>('SELECT MIN(key) FROM history').pluck();
  const nextKey = db.prepare<[string], string | null>('SELECT MIN(key) FROM history WHERE key > ?').pluck();
  const keyClusterInRange = db
    .prepare<[string, number, number], string>('SELECT cluster FROM history INDEXED BY history_key_at WHERE key = ? AND at >= ? AND at <= ? LIMIT 1')
    .pluck();

  const upsertAlert = db.prepare(
    `INSERT INTO alerts (id, rule, level, subject, cluster, message, state, fired_at, last_seen_at, resolved_at, acknowledged_at, acknowledged_by, count)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       rule = excluded.rule, level = excluded.level, subject = excluded.subject, cluster = excluded.cluster,
       message = excluded.message, state = excluded.state, fired_at = excluded.fired_at,
       last_seen_at = excluded.last_seen_at, resolved_at = excluded.resolved_at,
       acknowledged_at = excluded.acknowledged_at, acknowledged_by = excluded.acknowledged_by, count = excluded.count`,
  );
  // An alert matches [from, to] when it was active at some time in it: fired by `to`, and still
  // firing or resolved at or after `from`.
  const queryAlerts = db.prepare<{ state: string | null; from: number | null; to: number | null }, AlertRow>(
    `SELECT * FROM alerts
     WHERE (@state IS NULL OR state = @state)
       AND (@to IS NULL OR fired_at <= @to)
       AND (@from IS NULL OR state = 'firing' OR COALESCE(resolved_at, last_seen_at) >= @from)
     ORDER BY fired_at, id`,
  );

  const upsertAssignment = db.prepare(
    `INSERT INTO assignments (key, cluster, value, saved_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET cluster = excluded.cluster, value = excluded.value, saved_at = excluded.saved_at`,
  );
  const deleteAssignment = db.prepare('DELETE FROM assignments WHERE key = ?');
  const allAssignments = db.prepare<[], { value: string; saved_at: number }>('SELECT value, saved_at FROM assignments ORDER BY key');
  const rollupCols = ROLLUP_COLUMNS.join(', ');
  const upsertRollup = db.prepare(
    `INSERT INTO history_rollup (${rollupCols}) VALUES (${ROLLUP_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (key, bucket) DO UPDATE SET ${ROLLUP_COLUMNS.filter((c) => c !== 'key' && c !== 'bucket')
       .map((c) => `${c} = excluded.${c}`)
       .join(', ')}`,
  );
  const latestRollup = db.prepare<[string], unknown[]>(`SELECT ${rollupCols} FROM history_rollup WHERE key = ? ORDER BY bucket DESC LIMIT 1`).raw();
  // One endpoint's windows per statement: (key, bucket) is the clustered primary key, so each read is
  // one seek and a sequential run of pages; keys are walked by seeking to the next one.
  type RollupKeyParams = { key: string; lo: number; hi: number; cluster: string | null };
  const rollupKeySql = (cols: string): string =>
    `SELECT ${cols} FROM history_rollup WHERE key = @key AND bucket >= @lo AND bucket < @hi AND (@cluster IS NULL OR cluster = @cluster) ORDER BY bucket`;
  // Without `reasons` unless asked: only the detailed report lists them.
  const rollupsOfKeyNoReasons = db.prepare<RollupKeyParams, unknown[]>(rollupKeySql(ROLLUP_COLUMNS.slice(0, -1).join(', '))).raw();
  const rollupsOfKey = db.prepare<RollupKeyParams, unknown[]>(rollupKeySql(rollupCols)).raw();
  const firstRollupKey = db.prepare<[], string | null>('SELECT MIN(key) FROM history_rollup').pluck();
  const nextRollupKey = db.prepare<[string], string | null>('SELECT MIN(key) FROM history_rollup WHERE key > ?').pluck();
  const deleteRollupsBefore = db.prepare('DELETE FROM history_rollup WHERE bucket < ?');
  const countHistory = db
    .prepare<[number, number, number], number>('SELECT count(*) FROM (SELECT 1 FROM history INDEXED BY history_at WHERE at >= ? AND at <= ? LIMIT ?)')
    .pluck();
  const lastHistoryAt = db.prepare<[], number | null>('SELECT MAX(at) FROM history').pluck();
  const historyOfKeyFrom = db.prepare<[string, number], HistoryRow>(
    `SELECT ${HISTORY_COLUMNS} FROM history INDEXED BY history_key_at WHERE key = ? AND at >= ? ORDER BY at, id`,
  );
  const rollups = new RollupWriter((key) => {
    const row = latestRollup.get(key);
    const window = row ? toRollup(row) : undefined;
    // Points after the newest stored window (or, without one, since the roll-ups began): written
    // before a crash, or before this store had roll-ups at all.
    const since = window ? window.lastAt + 1 : Number(getMeta.get(META_ROLLUPS_FROM) ?? MAX_TIME);
    return { window, replay: historyOfKeyFrom.all(key, since).map(toPoint) };
  });

  const getMeta = db.prepare<[string], string>('SELECT v FROM meta WHERE k = ?').pluck();
  const setMeta = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v');

  const deleteHistoryBefore = db.prepare('DELETE FROM history WHERE at < ?');
  const downsample = db.prepare(
    `DELETE FROM history WHERE id IN (
       SELECT id FROM (
         SELECT id, ROW_NUMBER() OVER (PARTITION BY key, CAST(at AS INTEGER) / ${MINUTE} ORDER BY at, id) AS rn
         FROM history INDEXED BY history_at WHERE at >= ? AND at < ?
       ) WHERE rn > 1
     )`,
  );
  const deleteResolvedAlerts = db.prepare("DELETE FROM alerts WHERE state = 'resolved' AND COALESCE(resolved_at, last_seen_at) < ?");

  const appendMany = db.transaction((points: readonly HistoryPoint[]) => {
    // Roll-ups first: an endpoint's first point in this process replays the history stored before it.
    const windows = rollups.add(points);
    for (const p of points) insertHistory.run(historyParams(p));
    for (const r of windows) upsertRollup.run(rollupParams(r));
  });
  const flushRollups = db.transaction(() => {
    for (const r of rollups.flush()) upsertRollup.run(rollupParams(r));
  });
  // Roll-ups cover history written from now on: a store that already has history starts them at the next window.
  if (getMeta.get(META_ROLLUPS_FROM) === undefined) {
    const last = lastHistoryAt.get() ?? null;
    setMeta.run(META_ROLLUPS_FROM, String(last === null ? MIN_TIME : rollupBucket(last) + ROLLUP_MS));
  }
  const raiseFloor = db.transaction((version: string) => {
    const current = getMeta.get(META_VERSION_FLOOR);
    if (current !== undefined && BigInt(current) >= BigInt(version)) return;
    setMeta.run(META_VERSION_FLOOR, version);
  });
  const registrationTx = db.transaction((ops: readonly RegistrationOp[]) => {
    for (const op of ops) {
      if (op.kind === 'put') upsertRegistration.run(registrationParams(op.registration));
      else deleteRegistration.run(op.cluster, op.address, op.port);
    }
  });
  const assignmentTx = db.transaction((b: AssignmentBatch) => {
    for (const a of b.put) upsertAssignment.run(a.key, a.cluster, JSON.stringify(a), b.at);
    for (const key of b.remove) deleteAssignment.run(key);
    if (b.versionFloor !== undefined) raiseFloor(b.versionFloor);
  });
  const cleanupTx = db.transaction((at: number, r: RetentionPolicy) => {
    const historyCut = at - r.historyMs;
    const historyDeleted = deleteHistoryBefore.run(historyCut).changes;
    let historyDownsampled = 0;
    const fullCut = at - r.fullResolutionMs;
    if (fullCut > historyCut) {
      const mark = Number(getMeta.get(META_DOWNSAMPLED_UNTIL) ?? MIN_TIME);
      // Start at the minute of the previous mark: its first point is still there and must stay first.
      const from = Math.max(historyCut, Math.floor(mark / MINUTE) * MINUTE);
      if (fullCut > from) historyDownsampled = downsample.run(from, fullCut).changes;
      setMeta.run(META_DOWNSAMPLED_UNTIL, String(fullCut));
    }
    deleteRollupsBefore.run(rollupBucket(historyCut));
    const alertsDeleted = deleteResolvedAlerts.run(at - r.alertsMs).changes;
    return { historyDeleted, historyDownsampled, alertsDeleted };
  });

  let closed = false;

  function guard<T>(operation: string, fn: () => T): T {
    if (closed) throw closedError(path, operation);
    try {
      return fn();
    } catch (err) {
      throw storeError(path, operation, err);
    }
  }

  /** Runs `fn` with synchronous=FULL: its commit is on disk when this returns. */
  function durable<T>(fn: () => T): T {
    syncFull.run();
    try {
      return fn();
    } finally {
      syncNormal.run();
    }
  }

  function* keysInRange(q: RangeQuery): Generator<string> {
    const { from, to } = q;
    let key = guard('historyKeys', () => firstKey.get() ?? null);
    while (key !== null) {
      const current: string = key;
      const cluster = guard('historyKeys', () => keyClusterInRange.get(current, from, to));
      if (cluster !== undefined && (q.cluster === undefined || cluster === q.cluster)) yield current;
      key = guard('historyKeys', () => nextKey.get(current) ?? null);
    }
  }

  function* pointsInRange(q: RangeQuery): Generator<HistoryPoint, undefined, undefined> {
    const { from, to } = q;
    for (const key of keysInRange(q)) {
      let lo = from;
      let after = -1;
      for (;;) {
        const rows = guard('historyRange', () => historyPage.all({ key, from: lo, to, after, limit: RANGE_PAGE, cluster: q.cluster ?? null }));
        for (const row of rows) yield toPoint(row);
        const last = rows[rows.length - 1];
        if (rows.length < RANGE_PAGE || last === undefined) break;
        lo = last.at;
        after = last.id;
      }
    }
    return undefined;
  }

  function* rollupsInRange(q: RangeQuery, reasons: boolean): Generator<Rollup, undefined, undefined> {
    const read = reasons ? rollupsOfKey : rollupsOfKeyNoReasons;
    let key = guard('rollups', () => firstRollupKey.get() ?? null);
    while (key !== null) {
      const current: string = key;
      const rows = guard('rollups', () => read.all({ key: current, lo: q.from, hi: q.to, cluster: q.cluster ?? null }));
      for (const row of rows) yield toRollup(row);
      key = guard('rollups', () => nextRollupKey.get(current) ?? null);
    }
    return undefined;
  }

  return {
    saveRegistration(r: StoredRegistration): void {
      guard('saveRegistration', () => durable(() => upsertRegistration.run(registrationParams(r))));
    },

    applyRegistrations(ops: readonly RegistrationOp[]): void {
      if (ops.length === 0) return;
      guard('applyRegistrations', () => durable(() => registrationTx.immediate(ops)));
    },

    deleteRegistration(cluster: string, address: string, port: number): boolean {
      return guard('deleteRegistration', () => durable(() => deleteRegistration.run(cluster, address, port).changes > 0));
    },

    registrations(): StoredRegistration[] {
      return guard('registrations', () => allRegistrations.all().map(toRegistration));
    },

    appendHistory(points: readonly HistoryPoint[]): void {
      if (points.length === 0) return;
      guard('appendHistory', () => appendMany(points));
    },

    history(key: string, query: HistoryQuery = {}): HistoryPoint[] {
      const limit = query.limit === undefined ? -1 : Math.max(0, Math.floor(query.limit));
      if (limit === 0) return [];
      const rows = guard('history', () => newestHistory.all({ key, from: query.from ?? MIN_TIME, to: query.to ?? MAX_TIME, limit }));
      rows.reverse();
      return rows.map(toPoint);
    },

    historyRange(query: RangeQuery): IterableIterator<HistoryPoint> {
      if (closed) throw closedError(path, 'historyRange');
      return pointsInRange(query);
    },

    historyKeys(query: RangeQuery): string[] {
      return [...keysInRange(query)];
    },

    historyCount(query: RangeQuery, limit: number): number {
      return guard('historyCount', () => countHistory.get(query.from, query.to, Math.max(0, Math.floor(limit))) ?? 0);
    },

    rollups(query: RangeQuery, opts: { reasons?: boolean } = {}): IterableIterator<Rollup> {
      if (closed) throw closedError(path, 'rollups');
      return rollupsInRange(query, opts.reasons ?? true);
    },

    rollupsFrom(): number {
      return guard('rollupsFrom', () => Number(getMeta.get(META_ROLLUPS_FROM) ?? MAX_TIME));
    },

    saveAlert(a: AlertRecord): void {
      guard('saveAlert', () => upsertAlert.run(alertParams(a)));
    },

    alerts(query = {}): AlertRecord[] {
      return guard('alerts', () => queryAlerts.all({ state: query.state ?? null, from: query.from ?? null, to: query.to ?? null }).map(toAlert));
    },

    saveAssignments(batch: AssignmentBatch): void {
      if (batch.versionFloor !== undefined && !VERSION.test(batch.versionFloor)) {
        throw new InvalidArgumentError('version', `expected a decimal version, got ${JSON.stringify(batch.versionFloor)}`);
      }
      const b = batch.versionFloor === undefined ? batch : { ...batch, versionFloor: BigInt(batch.versionFloor).toString() };
      guard('saveAssignments', () => assignmentTx.immediate(b));
    },

    assignments(): StoredAssignment[] {
      const rows = guard('assignments', () => allAssignments.all());
      const out: StoredAssignment[] = [];
      for (const r of rows) {
        try {
          out.push({ assignment: JSON.parse(r.value) as EndpointAssignment, savedAt: r.saved_at });
        } catch (err) {
          log.warn({ err }, 'unreadable persisted assignment skipped');
        }
      }
      return out;
    },

    versionFloor(): string | undefined {
      return guard('versionFloor', () => getMeta.get(META_VERSION_FLOOR));
    },

    saveVersionFloor(version: string): void {
      if (!VERSION.test(version)) throw new InvalidArgumentError('version', `expected a decimal version, got ${JSON.stringify(version)}`);
      const normalized = BigInt(version).toString();
      guard('saveVersionFloor', () => durable(() => raiseFloor.immediate(normalized)));
    },

    cleanup(at: number, retention: RetentionPolicy) {
      const result = guard('cleanup', () => cleanupTx.immediate(at, retention));
      try {
        // Cheap: re-analyses only tables whose size changed a lot.
        db.pragma('optimize');
        const pages = Number(db.pragma('page_count', { simple: true }));
        const free = Number(db.pragma('freelist_count', { simple: true }));
        // Free pages are reused by later inserts; give space back only after a large shrink.
        if (free > pages / 4) db.pragma(`incremental_vacuum(${Math.floor(free - pages / 10)})`);
      } catch (err) {
        log.warn({ err }, 'store maintenance after cleanup failed');
      }
      return result;
    },

    close(): void {
      if (closed) return;
      closed = true;
      try {
        flushRollups();
      } catch (err) {
        log.warn({ err }, 'writing the open history roll-ups on close failed; they are rebuilt from the history on the next start');
      }
      try {
        db.pragma('optimize');
      } catch (err) {
        log.warn({ err }, 'PRAGMA optimize on close failed');
      }
      try {
        db.close();
      } catch (err) {
        throw storeError(path, 'close', err);
      }
      log.info('store closed');
    },
  };
}
