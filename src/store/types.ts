import type { EndpointAssignment } from '../core/assignment.js';
import type { Rollup } from './rollup.js';
import type { AlertRecord, HistoryPoint, HistoryQuery, RegistrationRequest } from '../operations.js';

export type RegistrationOp = { kind: 'put'; registration: StoredRegistration } | { kind: 'delete'; cluster: string; address: string; port: number };

/** A persisted endpoint assignment and when it was written. */
export interface StoredAssignment {
  assignment: EndpointAssignment;
  savedAt: number;
}

/** One write-ahead batch: assignment changes and the version of the snapshot about to be published. */
export interface AssignmentBatch {
  at: number;
  put: readonly EndpointAssignment[];
  remove: readonly string[];
  versionFloor?: string | undefined;
}

export interface StoredRegistration extends RegistrationRequest {
  weight: number;
  registeredAt: number;
}

export interface RetentionPolicy {
  /** History older than this is deleted. */
  historyMs: number;
  /** History older than this (but within historyMs) keeps one point per endpoint per minute. */
  fullResolutionMs: number;
  /** Resolved alerts older than this are deleted. */
  alertsMs: number;
}

export interface RangeQuery {
  from: number;
  to: number;
  cluster?: string | undefined;
}

/**
 * Durable state. Writes are synchronous and durable when they return (SQLite WAL, synchronous=NORMAL
 * is not enough for "acknowledged registration survives kill -9": registrations use FULL).
 */
export interface Store {
  saveRegistration(r: StoredRegistration): void;
  /** Several registration changes in one durable (synchronous=FULL) transaction, in order. */
  applyRegistrations(ops: readonly RegistrationOp[]): void;
  deleteRegistration(cluster: string, address: string, port: number): boolean;
  registrations(): StoredRegistration[];

  appendHistory(points: readonly HistoryPoint[]): void;
  /** One endpoint, oldest first, the newest `limit` points in range. */
  history(key: string, query?: HistoryQuery): HistoryPoint[];
  /** All endpoints in a time range (optionally one cluster), ordered by key then time; streamed. */
  historyRange(query: RangeQuery): IterableIterator<HistoryPoint>;
  /** Endpoint keys with history in the range. */
  historyKeys(query: RangeQuery): string[];
  /** History points in the range, counting at most `limit` (a cheap "is it large?"). */
  historyCount(query: RangeQuery, limit: number): number;
  /** Roll-up windows (5 min per endpoint) starting in [from, to), ordered by key then time; streamed. Without `reasons` their reasons are left out ({}). */
  rollups(query: RangeQuery, opts?: { reasons?: boolean }): IterableIterator<Rollup>;
  /** Start of the first window the roll-ups cover completely; windows before it may miss points. */
  rollupsFrom(): number;

  saveAlert(a: AlertRecord): void;
  alerts(query?: { from?: number | undefined; to?: number | undefined; state?: AlertRecord['state'] | undefined }): AlertRecord[];

  /**
   * Persist assignment changes (and raise the version floor) in one transaction, without an fsync:
   * in WAL mode a committed transaction survives a killed process; an OS crash or power loss may
   * lose the commits since the last checkpoint or FULL commit (registrations are FULL).
   */
  saveAssignments(batch: AssignmentBatch): void;
  /** Every persisted assignment (restored before the first snapshot after a restart). */
  assignments(): StoredAssignment[];

  /** The highest xDS version issued, so versions never go backwards across a restart. */
  versionFloor(): string | undefined;
  saveVersionFloor(version: string): void;

  cleanup(now: number, retention: RetentionPolicy): { historyDeleted: number; historyDownsampled: number; alertsDeleted: number };
  close(): void;
}
