/** Bearer-token check for mutating admin calls. The token is never logged or echoed. */
import { MIN_TOKEN_LENGTH, tokenMatches } from '../auth/secret.js';
import { AdminHttpError } from './errors.js';

export { MIN_TOKEN_LENGTH, resolveToken, tokenMatches, type TokenSource } from '../auth/secret.js';

const REALM = 'healthmesh-admin';

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
