import * as grpc from '@grpc/grpc-js';
import { HealthmeshError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

/** Every typed error code has its gRPC status (a new code fails to compile until it is mapped here). */
export const GRPC_CODE: Readonly<Record<ErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  INTERNAL: grpc.status.INTERNAL,
  CONFIG_INVALID: grpc.status.FAILED_PRECONDITION,
  CONFIG_UNREADABLE: grpc.status.FAILED_PRECONDITION,
};

/**
 * The gRPC status for a failure: a HealthmeshError is answered under its code with its public
 * message (no file paths; the full message is logged here); anything else is logged and answered
 * INTERNAL without details (it may carry secrets).
 */
export function toGrpcStatus(err: unknown, logger: Logger, method: string): Partial<grpc.StatusObject> {
  if (err instanceof HealthmeshError && err.code !== 'INTERNAL') {
    const details = err.publicMessage;
    if (details !== err.message) logger.error({ method, code: err.code, error: err.message }, 'request failed');
    else logger.debug({ method, code: err.code, error: err.message }, 'request refused');
    return { code: GRPC_CODE[err.code], details };
  }
  logger.error({ method, err }, 'status request failed');
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}
