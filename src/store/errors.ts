import { HealthmeshError } from '../errors.js';

/** Why a store operation failed; stable, for operators and tests. */
export type StoreFailure = 'unwritable' | 'corrupt' | 'schema-too-new' | 'busy' | 'full' | 'closed' | 'io';

/**
 * A store file that cannot be opened, read or written. Always names the file; `UNAVAILABLE`
 * because the control plane cannot persist (or load) its state until an operator fixes it.
 */
export class StoreError extends HealthmeshError {
  /** The store operation that failed (open, saveRegistration, ...). */
  readonly operation: string | undefined;

  constructor(
    readonly path: string,
    readonly reason: StoreFailure,
    message: string,
    options?: { cause?: unknown; operation?: string },
  ) {
    super('UNAVAILABLE', message, { path, reason });
    if (options?.cause !== undefined) this.cause = options.cause;
    this.operation = options?.operation;
  }

  /** No path, no driver message: callers learn that the store failed and why in one word. */
  override get publicMessage(): string {
    return `store unavailable${this.operation ? `: ${this.operation} failed` : ''} (${this.reason}); details are in the server log`;
  }
}

const HINTS: Record<StoreFailure, string> = {
  unwritable: 'check that the directory exists or can be created and is writable, or change store.path',
  corrupt: 'the file is not a healthmesh SQLite database or is damaged; move it aside to start empty',
  'schema-too-new': 'it was written by a newer healthmesh; upgrade, or point store.path elsewhere',
  busy: 'another process holds a lock on it',
  full: 'the disk is full',
  closed: 'the store was closed',
  io: 'an I/O error occurred',
};

function classify(err: unknown): StoreFailure {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return 'corrupt';
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/.test(code)) return 'unwritable';
  if (/^(EACCES|EPERM|EROFS|ENOTDIR|EEXIST|EISDIR|ENOENT)$/.test(code)) return 'unwritable';
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return 'busy';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return 'full';
  return 'io';
}

/** Wraps anything thrown by SQLite or the file system; typed errors pass through unchanged. */
export function storeError(path: string, operation: string, err: unknown): HealthmeshError {
  if (err instanceof HealthmeshError) return err;
  const reason = classify(err);
  const detail = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return new StoreError(path, reason, `store ${path}: ${operation} failed: ${detail}${code ? ` (${String(code)})` : ''}; ${HINTS[reason]}`, {
    cause: err,
    operation,
  });
}

export function closedError(path: string, operation: string): StoreError {
  return new StoreError(path, 'closed', `store ${path}: ${operation} after close(); ${HINTS.closed}`, { operation });
}

export function schemaTooNewError(path: string, found: number, supported: number): StoreError {
  return new StoreError(
    path,
    'schema-too-new',
    `store ${path}: database schema version ${found} is newer than this healthmesh supports (${supported}); ${HINTS['schema-too-new']}`,
    { operation: 'open' },
  );
}
