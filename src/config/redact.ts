/**
 * What of the running config may be shown (GET /config) or logged: secrets replaced by a marker.
 *  - tokens, passwords, secrets, API keys: any key that names one, anywhere;
 *  - HTTP check headers: every value (an Authorization or API-key header is the usual content);
 *  - custom check options: values under secret-looking keys (by the rule above);
 *  - URLs (webhook): only scheme and host are kept; user info, path, query and fragment go
 *    (Slack-style webhooks carry their secret in the path).
 */
import type { Config } from './schema.js';

export const REDACTED = '[redacted]';

/** Keys whose value is a secret wherever they appear. */
const SECRET_KEY = /(token|secret|password|passwd|credential|api[-_]?key|authorization|cookie|private[-_]?key)/i;

/** `https://hooks.slack.com/services/T/B/XYZ?x=1` → `https://hooks.slack.com/[redacted]`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!/^[a-z][a-z0-9+.-]*:$/.test(u.protocol) || !u.host) return REDACTED;
    const hidden = u.username || u.password || (u.pathname && u.pathname !== '/') || u.search || u.hash;
    return `${u.protocol}//${u.host}${hidden ? `/${REDACTED}` : '/'}`;
  } catch {
    return REDACTED;
  }
}

function walk(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && SECRET_KEY.test(key) && value !== undefined && value !== null && typeof value !== 'boolean') return REDACTED;
  if (Array.isArray(value)) return value.map((v) => walk(v, undefined));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'headers' && v && typeof v === 'object' && !Array.isArray(v)) out[k] = Object.fromEntries(Object.keys(v).map((h) => [h, REDACTED]));
      else if (k === 'url' && typeof v === 'string') out[k] = redactUrl(v);
      else out[k] = walk(v, k);
    }
    return out;
  }
  return value;
}

/**
 * What a config error may show of the value at `path` (it is printed by `validate` and logged on a refused
 * SIGHUP): nothing of a secret (a key naming one anywhere on the path, check headers), only scheme and
 * host of a URL, and nested secrets of an object replaced.
 */
export function redactAt(path: readonly PropertyKey[], value: unknown): unknown {
  const keys = path.filter((k): k is string => typeof k === 'string');
  if (keys.some((k) => SECRET_KEY.test(k) || k === 'headers')) return REDACTED;
  const last = keys[keys.length - 1];
  if (last === 'url' && typeof value === 'string') return redactUrl(value);
  return walk(value, last);
}

/** A deep copy of the config with every secret replaced by `[redacted]`. */
export function redactConfig(config: Readonly<Config>): unknown {
  return walk(config, undefined);
}

/**
 * pino `redact` options for every logger: tokens, authorization and check headers at the depths
 * they are logged at; a webhook URL keeps its scheme and host.
 */
export const LOG_REDACT = Object.freeze({
  paths: [
    'token',
    '*.token',
    'authorization',
    '*.authorization',
    'headers.authorization',
    'check.http.headers',
    '*.check.http.headers',
    'webhook.url',
    '*.webhook.url',
  ],
  censor: (value: unknown, path: string[]): unknown => (path[path.length - 1] === 'url' && typeof value === 'string' ? redactUrl(value) : REDACTED),
});
