/** Validation of path parameters, query strings and bodies; failures name the field (400 INVALID_ARGUMENT). */
import { InvalidArgumentError } from '../errors.js';

/** Same alphabet as resource names in the config schema. */
const NAME = /^[A-Za-z0-9_.:-]{1,200}$/;
/** Hostnames, IPv4, IPv6 (with an optional zone). */
const HOST = /^[A-Za-z0-9_.:%-]{1,253}$/;
/** Alert ids: printable ASCII without spaces. */
const ID = /^[\x21-\x7e]{1,200}$/;

export function name(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) throw new InvalidArgumentError(field, 'must be 1-200 letters, digits, "_", ".", ":" or "-"');
  return value;
}

export function alertId(value: unknown, field = 'id'): string {
  if (typeof value !== 'string' || !ID.test(value)) throw new InvalidArgumentError(field, 'must be 1-200 printable characters without spaces');
  return value;
}

/** `address:port` (IPv6 as `[addr]:port` or bare). */
export function hostPort(value: unknown, field: string): { address: string; port: number } {
  const bad = (): never => {
    throw new InvalidArgumentError(field, 'must be address:port, e.g. 10.0.0.1:8080');
  };
  if (typeof value !== 'string') return bad();
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return bad();
  let address = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (!HOST.test(address) || !/^\d{1,5}$/.test(portText)) return bad();
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new InvalidArgumentError(field, 'port must be 1-65535');
  return { address, port };
}

export function oneOf<T extends string>(value: string, values: readonly T[], field: string, normalise: (s: string) => string = (s) => s): T {
  const v = normalise(value);
  if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(field, `must be one of ${values.join(', ')}`);
  return v as T;
}

export function integer(value: string, field: string, min: number, max: number): number {
  if (!/^-?\d{1,16}$/.test(value)) throw new InvalidArgumentError(field, 'must be an integer');
  const n = Number(value);
  if (n < min || n > max) throw new InvalidArgumentError(field, `must be between ${min} and ${max}`);
  return n;
}

/** The query string as single string values; unknown or repeated parameters are refused. */
export function query<K extends string>(raw: unknown, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  if (raw === null || typeof raw !== 'object') return out;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(allowed as readonly string[]).includes(key)) {
      const hint = allowed.length ? `; known: ${allowed.join(', ')}` : '';
      throw new InvalidArgumentError(key.slice(0, 50), `unknown query parameter${hint}`);
    }
    if (typeof value !== 'string') throw new InvalidArgumentError(key, 'must be given once');
    out[key as K] = value;
  }
  return out;
}

/** A JSON object body with only `allowed` string fields (an absent or empty body is `{}`). */
export function stringFields<K extends string>(body: unknown, allowed: readonly K[], maxLength: number): Partial<Record<K, string>> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('body', 'must be a JSON object');
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (!(allowed as readonly string[]).includes(key)) throw new InvalidArgumentError(`body.${key.slice(0, 50)}`, 'unknown field');
    if (typeof value !== 'string' || value.length < 1 || value.length > maxLength || hasControl(value)) {
      throw new InvalidArgumentError(`body.${key}`, `must be a string of 1-${maxLength} printable characters`);
    }
    out[key as K] = value;
  }
  return out;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
