/**
 * Config for the write-path security of the gRPC port: bearer tokens with roles (`auth`), TLS/mTLS
 * (`xds.tls`) and the Watch stream caps (`status.*`). Kept apart from schema.ts, which includes them.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const AUTH_ROLES = ['operator', 'agent', 'proxy'] as const;
export type AuthRole = (typeof AUTH_ROLES)[number];

/** `cluster/address:port`, `cluster/*` or `*` (same alphabets as cluster names and addresses). */
const ENDPOINT_SCOPE = /^(\*|[A-Za-z0-9_.:-]{1,200}\/(\*|[A-Za-z0-9_.:[\]-]{1,260}:\d{1,5}))$/;

export const authTokenSchema = z
  .object({
    /** Who holds the token (logged with each refused or accepted write; never the token). */
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9_.:@-]+$/, 'letters, digits, "_", ".", ":", "@" or "-" only'),
    role: z.enum(AUTH_ROLES),
    token: z
      .string()
      .min(16, 'use at least 16 characters')
      .max(4096)
      .regex(/^[\x21-\x7e]+$/, 'visible ASCII only (no spaces)')
      .optional(),
    tokenEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
    /** agent tokens: the endpoints this agent may heartbeat for: `cluster/address:port`, `cluster/*` or `*`. */
    endpoints: z.array(z.string().regex(ENDPOINT_SCOPE, 'cluster/address:port, cluster/* or *')).min(1).max(10_000).optional(),
    /** agent and proxy tokens: node ids this token may speak as (default: any). */
    nodes: z.array(z.string().min(1).max(1024)).min(1).max(10_000).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.token === undefined) === (t.tokenEnv === undefined))
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'set exactly one of token or tokenEnv' });
    if (t.role === 'agent' && !t.endpoints)
      ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'an agent token needs endpoints: cluster/address:port, cluster/* or *' });
    if (t.role !== 'agent' && t.endpoints) ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'endpoints apply to agent tokens only' });
    if (t.role === 'operator' && t.nodes) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'nodes apply to agent and proxy tokens only' });
  });

export const authSchema = z
  .object({
    /** Bearer tokens for the write RPCs (`authorization: Bearer <token>` in gRPC metadata). admin.token is accepted for all of them. */
    tokens: z.array(authTokenSchema).max(1000).default([]),
    /** ADS streams need a proxy (or admin) token too. Off by default so a plain Envoy still gets its config; LRS always needs one. */
    requireProxyToken: z.boolean().default(false),
  })
  .strict()
  .superRefine((a, ctx) => {
    const names = new Map<string, number>();
    const values = new Map<string, number>();
    a.tokens.forEach((t, i) => {
      const n = names.get(t.name);
      if (n !== undefined) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `duplicate name (also tokens[${n}])` });
      names.set(t.name, i);
      if (t.token === undefined) return;
      const v = values.get(t.token);
      if (v !== undefined)
        ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `has the same token as tokens[${v}]: every token must be different` });
      values.set(t.token, i);
    });
  });

/** A PEM file that must exist and parse; `check` gets its text. */
function pemFile(what: string, check: (pem: string) => void) {
  return z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        return;
      }
      try {
        check(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not a valid ${what} (PEM): ${(err as Error).message}` });
      }
    });
}

export const xdsTlsSchema = z
  .object({
    /** Server certificate chain (PEM file). */
    cert: pemFile('certificate', (pem) => new X509Certificate(pem)),
    /** Its private key (PEM file). */
    key: pemFile('private key', (pem) => createPrivateKey(pem)),
    /** CA bundle (PEM file): when set, clients must present a certificate it signed (mTLS). */
    clientCa: pemFile('CA certificate', (pem) => new X509Certificate(pem)).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    try {
      if (!new X509Certificate(readFileSync(t.cert)).checkPrivateKey(createPrivateKey(readFileSync(t.key)))) {
        ctx.addIssue({ code: 'custom', path: ['key'], message: 'does not match the certificate in cert' });
      }
    } catch {
      // unreadable or unparsable: already reported on cert / key
    }
  });

/** Spread into statusSchema: caps on Watch streams. */
export const watchLimitsShape = {
  /** Concurrent Watch streams at most; more are refused with RESOURCE_EXHAUSTED. */
  maxWatchers: z.number().int().min(1).max(100_000).default(256),
  /** Live events one Watch client may be behind before its stream is closed (RESOURCE_EXHAUSTED). */
  watchBacklog: z.number().int().min(1).max(1_000_000).default(1024),
  /** Queued bytes across every Watch stream at most; past it the most-behind stream is closed. */
  maxWatchBacklogBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(4 * 1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
};

export type AuthConfig = z.infer<typeof authSchema>;
export type AuthTokenConfig = z.infer<typeof authTokenSchema>;
export type XdsTlsConfig = z.infer<typeof xdsTlsSchema>;
