/** gRPC side of the write-path auth: bearer tokens from call metadata, failures as gRPC status objects. */
import * as grpc from '@grpc/grpc-js';
import type { AuthRole } from '../config/security-schema.js';
import type { Authenticator, Identity } from './tokens.js';
import { AuthError } from './errors.js';

/** The `authorization` metadata value (the first one; a binary or repeated header counts as malformed). */
export function authorizationOf(metadata: grpc.Metadata | undefined): string | undefined {
  const values = metadata?.get('authorization') ?? [];
  if (values.length === 0) return undefined;
  const first = values[0];
  if (values.length > 1 || typeof first !== 'string') return 'malformed';
  return first;
}

/** Authorizes one call; throws AuthError (UNAUTHENTICATED / PERMISSION_DENIED). */
export function authorizeCall(auth: Authenticator, call: { metadata: grpc.Metadata }, role: AuthRole, method: string): Identity {
  return auth.require(authorizationOf(call.metadata), role, method);
}

/** AuthError → its gRPC status; anything else → undefined. */
export function authStatus(err: unknown): { code: grpc.status; details: string } | undefined {
  if (!(err instanceof AuthError)) return undefined;
  return { code: err.code === 'PERMISSION_DENIED' ? grpc.status.PERMISSION_DENIED : grpc.status.UNAUTHENTICATED, details: err.message };
}
