/** Bearer-token check for mutating admin calls. The token is never logged or echoed. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminConfig } from '../config/schema.js';
import { AdminHttpError } from './errors.js';

export const MIN_TOKEN_LENGTH = 16;
const REALM = 'healthmesh-admin';

export type TokenSource = { token: string; from: 'config' | 'env' } | { token: undefined; problem?: string };

/** The configured token: `admin.token`, else the environment variable `admin.tokenEnv` names. */
export function resolveToken(config: Pick<AdminConfig, 'token' | 'tokenEnv'>, env: NodeJS.ProcessEnv): TokenSource {
  if (config.token) return { token: config.token, from: 'config' };
  if (!config.tokenEnv) return { token: undefined };
  const value = env[config.tokenEnv]?.trim();
  if (!value) return { token: undefined, problem: `environment variable ${config.tokenEnv} (admin.tokenEnv) is not set` };
  if (value.length < MIN_TOKEN_LENGTH)
    return { token: undefined, problem: `environment variable ${config.tokenEnv} (admin.tokenEnv) holds fewer than ${MIN_TOKEN_LENGTH} characters` };
  return { token: value, from: 'env' };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Compares in constant time (over equal-length digests, so the length does not leak either). */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

export const NO_TOKEN_MESSAGE =
  `mutations are disabled because no admin token is configured: set admin.token (at least ${MIN_TOKEN_LENGTH} characters) in the config file, ` +
  'or admin.tokenEnv to the name of an environment variable holding it, then restart';

/** Throws the 403 / 401 answer unless `authorization` carries the configured bearer token. */
export function checkBearer(expected: string | undefined, authorization: string | undefined): void {
  if (expected === undefined) throw new AdminHttpError(403, 'PERMISSION_DENIED', NO_TOKEN_MESSAGE);
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization ?? '');
  if (!match?.[1]) {
    throw new AdminHttpError(401, 'UNAUTHENTICATED', 'missing bearer token: send "Authorization: Bearer <token>"', {
      'www-authenticate': `Bearer realm="${REALM}"`,
    });
  }
  if (!tokenMatches(expected, match[1])) {
    throw new AdminHttpError(401, 'UNAUTHENTICATED', 'invalid bearer token', { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"` });
  }
}
