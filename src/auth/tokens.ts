/**
 * Bearer tokens with roles for the write RPCs of the gRPC port. Tokens are kept as SHA-256 digests and
 * compared in constant time (timingSafeEqual over fixed-length digests, every entry checked, no early
 * exit). The token itself is never logged or echoed; identities are named by their `name`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MIN_TOKEN_LENGTH, resolveToken } from './secret.js';
import type { AdminConfig } from '../config/schema.js';
import type { AuthConfig, AuthRole } from '../config/security-schema.js';
import type { Metadata } from '@grpc/grpc-js';
import { AuthError } from './errors.js';
import type { Logger } from '../log.js';
import { authorizationOf, authStatus } from './grpc.js';

export type { AuthRole } from '../config/security-schema.js';

/** Who is calling: a configured token entry, or the admin token (`role: 'admin'`, allowed everything). */
export interface Identity {
  readonly name: string;
  readonly role: AuthRole | 'admin';
  /** agent: endpoint keys (`cluster/address:port`), `cluster/*` or `*` it may speak for; others: `*`. */
  readonly endpoints: readonly string[];
  /** Node ids it may use, or undefined for any. */
  readonly nodes: ReadonlySet<string> | undefined;
}

export { AuthError };

const ROLE_CALLS: Readonly<Record<AuthRole, string>> = {
  operator: 'RegisterEndpoint/DeregisterEndpoint',
  agent: 'agent Heartbeat',
  proxy: 'LRS (load report)',
};

interface Entry {
  digest: Buffer;
  identity: Identity;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Removes the brackets of an IPv6 address in a scope, so it compares with endpoint keys (`demo/::1:80`). */
const normalizeScope = (s: string): string => s.replace(/\/\[([^\]]*)\]:(\d+)$/, '/$1:$2');

export interface TokenProblems {
  /** Entries that could not be resolved (tokenEnv unset or too short): they authenticate nobody. */
  problems: string[];
}

/** The configured tokens, resolved once (tokenEnv read at construction). */
export class Authenticator {
  private entries: Entry[] = [];
  problems: string[] = [];

  /** `logger`: where unusable tokens and roles nobody can call are warned about (at start and on every reload). */
  constructor(
    auth: Pick<AuthConfig, 'tokens'>,
    admin: Pick<AdminConfig, 'token' | 'tokenEnv'>,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly logger?: Logger,
  ) {
    this.load(auth, admin, env);
  }

  /** Replaces every token (config reload); calls in flight keep the identity they were given. */
  reload(auth: Pick<AuthConfig, 'tokens'>, admin: Pick<AdminConfig, 'token' | 'tokenEnv'>, env: NodeJS.ProcessEnv = this.env): void {
    this.load(auth, admin, env);
  }

  private load(auth: Pick<AuthConfig, 'tokens'>, admin: Pick<AdminConfig, 'token' | 'tokenEnv'>, env: NodeJS.ProcessEnv): void {
    this.entries = [];
    this.problems = [];
    const adminToken = resolveToken(admin, env);
    // (An unusable admin.tokenEnv is reported by the admin server already.)
    if (adminToken.token !== undefined) this.add(adminToken.token, { name: 'admin', role: 'admin', endpoints: ['*'], nodes: undefined });
    auth.tokens.forEach((t, i) => {
      let value = t.token;
      if (value === undefined && t.tokenEnv) {
        value = env[t.tokenEnv]?.trim();
        if (!value) {
          this.problems.push(`environment variable ${t.tokenEnv} (auth.tokens[${i}].tokenEnv, "${t.name}") is not set`);
          return;
        }
        if (value.length < MIN_TOKEN_LENGTH) {
          this.problems.push(`environment variable ${t.tokenEnv} (auth.tokens[${i}].tokenEnv, "${t.name}") holds fewer than ${MIN_TOKEN_LENGTH} characters`);
          return;
        }
      }
      if (value === undefined) return;
      const d = digest(value);
      if (this.entries.some((e) => timingSafeEqual(e.digest, d))) {
        this.problems.push(`auth.tokens[${i}] ("${t.name}") has the same token as another entry: it is ignored`);
        return;
      }
      this.entries.push({
        digest: d,
        identity: { name: t.name, role: t.role, endpoints: (t.endpoints ?? ['*']).map(normalizeScope), nodes: t.nodes ? new Set(t.nodes) : undefined },
      });
    });
    for (const [role, calls] of Object.entries(ROLE_CALLS) as Array<[AuthRole, string]>) {
      if (!this.canAnyone(role)) this.problems.push(`no ${role} token and no admin token configured (auth.tokens, admin.token): ${calls} calls are refused`);
    }
    for (const problem of this.problems) this.logger?.warn({ problem }, 'auth: token not usable');
  }

  private add(token: string, identity: Identity): void {
    this.entries.push({ digest: digest(token), identity });
  }

  /** Whether any token (the admin one included) can call a method that needs `role`. */
  canAnyone(role: AuthRole): boolean {
    return this.entries.some((e) => e.identity.role === role || e.identity.role === 'admin');
  }

  /** The identity holding `token`, or undefined. Constant time in the token's content. */
  identify(token: string): Identity | undefined {
    const d = digest(token);
    let found: Identity | undefined;
    for (const e of this.entries) {
      // No early exit: every entry is compared, so timing says nothing about which one matched.
      if (timingSafeEqual(e.digest, d) && found === undefined) found = e.identity;
    }
    return found;
  }

  /**
   * The caller's identity for a method that needs `role`, from the `authorization` metadata value.
   * No or a malformed header, or an unknown token: UNAUTHENTICATED. A token of another role: PERMISSION_DENIED.
   */
  require(authorization: string | undefined, role: AuthRole, method: string): Identity {
    if (authorization === undefined || authorization === '') {
      throw new AuthError(
        'UNAUTHENTICATED',
        `${method}: missing credentials; send gRPC metadata "authorization: Bearer <token>" with a${role === 'operator' || role === 'agent' ? 'n' : ''} ${role} token (or the admin token)`,
      );
    }
    const m = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(authorization);
    if (!m?.[1]) throw new AuthError('UNAUTHENTICATED', `${method}: malformed authorization metadata; expected "Bearer <token>"`);
    const who = this.identify(m[1]);
    if (!who) throw new AuthError('UNAUTHENTICATED', `${method}: invalid bearer token`);
    if (who.role !== role && who.role !== 'admin') {
      throw new AuthError('PERMISSION_DENIED', `${method}: token "${who.name}" has role ${who.role}; this call needs role ${role} (or the admin token)`);
    }
    return who;
  }
}

/** Whether `who` may speak for the endpoint `key` (`cluster/address:port`) of `cluster`. */
export function mayServe(who: Identity, cluster: string, key: string): boolean {
  return who.endpoints.some((s) => s === '*' || s === key || s === `${cluster}/*`);
}

/** Whether `who` may use node id `nodeId`. */
export function mayBeNode(who: Identity, nodeId: string): boolean {
  return who.nodes === undefined || who.nodes.has(nodeId);
}

/** What the ADS admission check says about a new stream: refused now, or admitted (with a check of the node id it will send). */
export type AdsAdmission =
  | { refused: { code: number; details: string } }
  | { refused?: undefined; /** PERMISSION_DENIED details when the stream may not speak as `nodeId`. */ checkNode?: (nodeId: string) => string | undefined };

/**
 * The ADS admission check for AdsService: with `required()` (auth.requireProxyToken, read per stream so a
 * reload applies), a stream needs a proxy or admin token, and a token with a `nodes` list may only connect
 * as one of those node ids (the same rule LRS applies); a refusal is a gRPC status.
 */
export function adsAdmission(auth: Authenticator, required: () => boolean): (metadata: Metadata) => AdsAdmission | undefined {
  return (metadata) => {
    if (!required()) return undefined;
    try {
      const who = auth.require(authorizationOf(metadata), 'proxy', 'ADS');
      if (who.nodes === undefined) return undefined;
      return { checkNode: (nodeId) => (mayBeNode(who, nodeId) ? undefined : `node.id: token "${who.name}" may not connect as node "${nodeId.slice(0, 256)}"`) };
    } catch (err) {
      const status = authStatus(err);
      if (status) return { refused: status };
      throw err;
    }
  };
}
