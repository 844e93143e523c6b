/** Typed errors of the etcd adapter (codes from src/errors.ts). */
import { HealthmeshError } from '../errors.js';

/**
 * etcd did not answer in time or the connection is down. gRPC: UNAVAILABLE; HTTP: 503. For a write the
 * outcome is unknown when the deadline passed (a frozen etcd may still apply it once it runs again):
 * retry idempotently, and never acknowledge a registration on this error.
 */
export class EtcdUnavailableError extends HealthmeshError {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('UNAVAILABLE', `etcd unreachable during ${operation}: ${why}`, { operation });
    this.cause = cause;
  }
}

/** etcd answered, but refused the request (e.g. too many operations in one transaction). */
export class EtcdRequestError extends HealthmeshError {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('INTERNAL', `etcd refused ${operation}: ${why}`, { operation });
    this.cause = cause;
  }
}

/** A value under the replication prefix that is not valid JSON or does not match its schema. */
export class ReplicatedValueError extends HealthmeshError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('INVALID_ARGUMENT', `${key}: ${message}`, { key });
  }
}
