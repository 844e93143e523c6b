import type Database from 'better-sqlite3';
import { schemaTooNewError } from './errors.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Ordered, append-only: never edit a released migration, add the next one. Each runs in its own
 * transaction together with the row recording it in `schema_version`.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'registrations, history, alerts, meta',
    sql: `
      CREATE TABLE registrations (
        cluster       TEXT    NOT NULL,
        address       TEXT    NOT NULL,
        port          INTEGER NOT NULL,
        weight        INTEGER NOT NULL,
        zone          TEXT,
        region        TEXT,
        metadata      TEXT,             -- JSON object, NULL when absent
        registered_at INTEGER NOT NULL,
        PRIMARY KEY (cluster, address, port)
      ) WITHOUT ROWID;

      -- One row per sample. An endpoint key belongs to exactly one cluster (core/model endpointKey
      -- embeds it), so cluster-filtered reads walk the (key, at) index and need no index of their own.
      CREATE TABLE history (
        id              INTEGER PRIMARY KEY,  -- stable tie-break for equal timestamps
        key             TEXT    NOT NULL,
        cluster         TEXT    NOT NULL,
        at              INTEGER NOT NULL,
        score           REAL    NOT NULL,
        status          TEXT    NOT NULL,
        circuit         TEXT    NOT NULL,
        health          TEXT    NOT NULL,
        weight          REAL    NOT NULL,
        latency_ms      REAL,
        error_rate      REAL,
        cpu             REAL,
        memory          REAL,
        disk            REAL,
        heartbeat_age_s REAL,
        reasons         TEXT                  -- JSON array, NULL when absent
      );
      CREATE INDEX history_key_at ON history (key, at);
      CREATE INDEX history_at ON history (at);

      CREATE TABLE alerts (
        id              TEXT    PRIMARY KEY,
        rule            TEXT    NOT NULL,
        level           TEXT    NOT NULL,
        subject         TEXT    NOT NULL,
        cluster         TEXT,
        message         TEXT    NOT NULL,
        state           TEXT    NOT NULL,
        fired_at        INTEGER NOT NULL,
        last_seen_at    INTEGER NOT NULL,
        resolved_at     INTEGER,
        acknowledged_at INTEGER,
        acknowledged_by TEXT,
        count           INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX alerts_fired_at ON alerts (fired_at);

      CREATE TABLE meta (
        k TEXT PRIMARY KEY,
        v TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'assignments: the last published decision per endpoint, restored after a restart',
    sql: `
      -- One row per endpoint: the core's EndpointAssignment as JSON (decision, circuit/flap/ramp
      -- memory, drain) and when it was saved. Written ahead of every snapshot that changes it.
      CREATE TABLE assignments (
        key      TEXT    PRIMARY KEY,
        cluster  TEXT    NOT NULL,
        value    TEXT    NOT NULL,
        saved_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  // Version 2 is taken by the lead's branch (persisted assignments); this one must stay 3.
  {
    version: 3,
    description: 'history roll-ups per endpoint per 5 minutes (reports)',
    sql: `
      -- Kept by the store as history is written (src/store/rollup.ts); reports over long ranges read
      -- these instead of every point. Held times are ms each point held until the next one (capped).
      CREATE TABLE history_rollup (
        key          TEXT    NOT NULL,
        cluster      TEXT    NOT NULL,
        bucket       INTEGER NOT NULL,  -- window start, ms, a multiple of 300000
        n            INTEGER NOT NULL,  -- points in the window
        agg          BLOB    NOT NULL,  -- float64 LE: times, counters, last point, per-metric n/sum/min/max (src/store/rows.ts)
        last_reasons TEXT,              -- JSON array of the window's last point, NULL when none
        reasons      TEXT,              -- JSON object reason -> [count, firstAt, lastAt], NULL when none
        PRIMARY KEY (key, bucket)
      ) WITHOUT ROWID;
      CREATE INDEX history_rollup_bucket ON history_rollup (bucket);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Brings the database to SCHEMA_VERSION; refuses one written by a newer build (before touching it).
 * Returns the versions applied.
 */
export function migrate(db: Database.Database, path: string, now: () => number, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL)');
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const readCurrent = db.prepare('SELECT MAX(version) AS v FROM schema_version').pluck() as Database.Statement<[], number | null>;
  const current = (): number => {
    const v = readCurrent.get() ?? 0;
    if (v > latest) throw schemaTooNewError(path, v, latest);
    return v;
  };
  current();
  const record = db.prepare('INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations) {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const ran = db
      .transaction(() => {
        if (current() >= m.version) return false;
        db.exec(m.sql);
        record.run(m.version, now(), m.description);
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return applied;
}
