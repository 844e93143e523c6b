/** Token material shared by every credential check (admin HTTP, gRPC write RPCs): resolution and constant-time comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminConfig } from '../config/schema.js';

export const MIN_TOKEN_LENGTH = 16;

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
