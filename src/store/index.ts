import type { StoreConfig } from '../config/schema.js';
import { openSqliteStore, type StoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export type { RangeQuery, RetentionPolicy, Store, StoredRegistration } from './types.js';
export { StoreError, type StoreFailure } from './errors.js';
export { HistoryRecorder, type HistoryRecorderOptions } from './history-recorder.js';
export { RetentionJob, retentionFromConfig, type CleanupResult, type RetentionJobOptions } from './retention.js';
export { openSqliteStore, type StoreOptions } from './sqlite.js';
export { SCHEMA_VERSION } from './schema.js';

/**
 * The store the config asks for. `path: ":memory:"` is SQLite's in-memory database: the same code
 * and semantics as a file, kept for the life of the process only.
 */
export function openStore(config: Pick<StoreConfig, 'path'>, opts: StoreOptions = {}): Store {
  return openSqliteStore(config.path, opts);
}

/** An empty in-memory store (tests, `--dry-run` style tools). */
export function createMemoryStore(opts: StoreOptions = {}): Store {
  return openSqliteStore(':memory:', opts);
}
