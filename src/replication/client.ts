/**
 * The etcd client as healthmesh uses it: bounded deadlines on every unary call, no hidden retries
 * (callers decide), a short circuit breaker, fast watch reconnects, gRPC keepalive to notice a hung
 * etcd, and one wrapper (`etcdCall`) that turns client failures into typed errors and feeds EtcdStatus.
 */
import type { Etcd3 } from 'etcd3';
import { lazyModule } from '../lazy-module.js';
import { EtcdRequestError, EtcdUnavailableError } from './errors.js';
import type { EtcdStatus } from './status.js';

// Loaded only in replicated mode (a `replication:` section): a single process never carries them.
const etcd3 = lazyModule<typeof import('etcd3')>('etcd3');
const cockatiel = lazyModule<typeof import('cockatiel')>('cockatiel');

export interface EtcdClientOptions {
  endpoints: string[];
  /** Deadline of each unary call, default 2000 ms. */
  requestTimeoutMs?: number;
  /** gRPC keepalive ping interval, default 5000 ms (etcd's default minimum). */
  keepaliveMs?: number;
}

export function connectEtcd(opts: EtcdClientOptions): Etcd3 {
  const timeout = opts.requestTimeoutMs ?? 2000;
  const keepalive = opts.keepaliveMs ?? 5000;
  const { Etcd3, isRecoverableError } = etcd3();
  const { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, noop } = cockatiel();
  return new Etcd3({
    hosts: opts.endpoints,
    dialTimeout: timeout,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    grpcOptions: {
      'grpc.keepalive_time_ms': keepalive,
      'grpc.keepalive_timeout_ms': Math.min(keepalive, timeout),
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
    faultHandling: {
      // One attempt per call: the deadline bounds it and the caller decides about retrying.
      global: noop,
      // After 3 straight failures, fail fast for 1 s, then let one call probe etcd again.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      // Watch streams reconnect after 100 ms, growing to at most 1 s while etcd stays away.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }).next(),
    },
  });
}

/** True for failures that mean "etcd is not reachable right now" rather than "etcd said no". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { GRPCUnavailableError, GRPCDeadlineExceededError, GRPCCancelledError, ClientClosedError, EtcdLeaseInvalidError, isRecoverableError } = etcd3();
  const { BrokenCircuitError } = cockatiel();
  return (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof GRPCCancelledError ||
    err instanceof BrokenCircuitError ||
    err instanceof ClientClosedError ||
    err instanceof EtcdLeaseInvalidError ||
    isRecoverableError(err)
  );
}

/**
 * Runs one etcd operation: success marks etcd reachable; failure marks it unreachable (when it is a
 * connectivity failure) and rejects with EtcdUnavailableError or EtcdRequestError naming `operation`.
 */
export async function etcdCall<T>(status: EtcdStatus, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn();
    status.ok();
    return result;
  } catch (err) {
    if (err instanceof EtcdUnavailableError || err instanceof EtcdRequestError) throw err;
    if (isUnavailable(err)) {
      status.failed(err);
      throw new EtcdUnavailableError(operation, err);
    }
    status.ok();
    throw new EtcdRequestError(operation, err);
  }
}
