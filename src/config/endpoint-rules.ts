/**
 * The one set of rules for an endpoint that healthmesh publishes over EDS, whether it comes from
 * the config file (`clusters[].endpoints[]`), a RegisterEndpoint call or the service facade.
 * Each rule returns why a value is refused (or undefined); `validateRegistration` turns the first
 * refusal into an InvalidArgumentError naming the field, the config schema into an issue at its path.
 */
import { InvalidArgumentError, ResourceExhaustedError } from '../errors.js';
import type { RegistrationRequest } from '../operations.js';
import { isHostName, parseIpLiteral, type AddressPolicy } from './address-policy.js';

export const ENDPOINT_LIMITS = Object.freeze({
  /** The longest IPv6 literal is 45 characters. */
  address: 64,
  weightMin: 1,
  weightMax: 1000,
  zone: 100,
  region: 100,
  metadataEntries: 64,
  metadataKey: 128,
  metadataValue: 1024,
});

const PRINTABLE = /^[^\p{Cc}]*$/u;
const METADATA_KEY = /^[A-Za-z0-9_./-]+$/;

export const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}...` : v) : String(v));

/**
 * An endpoint address must be an IP literal: Envoy NACKs a whole EDS response holding a host name
 * in a socket address ("malformed IP address"), which empties the cluster. With a policy, refused
 * addresses (link-local, metadata, ...) not allowlisted are refused too.
 */
export function addressProblem(v: unknown, policy?: AddressPolicy): string | undefined {
  if (typeof v !== 'string') return `must be a string, got ${typeof v}`;
  if (v === '') return 'required';
  if (v.length > ENDPOINT_LIMITS.address) return `must be an IP address (at most ${ENDPOINT_LIMITS.address} characters), got ${v.length} characters`;
  const ip = parseIpLiteral(v);
  if (!ip) {
    if (isHostName(v)) return `must be an IP address, not a host name (Envoy refuses host names in EDS endpoints: "malformed IP address"), got ${show(v)}`;
    return `must be an IP address (IPv4 dotted quad or IPv6, no brackets or zone), got ${show(v)}`;
  }
  const why = policy?.refusal(ip);
  return why ? `${v} refused: ${why}` : undefined;
}

export function portProblem(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? undefined : `must be 1..65535, got ${show(v)}`;
}

/** Absent is fine (the default, 1). */
export function weightProblem(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const { weightMin: min, weightMax: max } = ENDPOINT_LIMITS;
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer ${min}..${max}, got ${show(v)}`;
}

/** Zone and region: absent, or printable text of at most `max` characters. */
export function localityProblem(v: unknown, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return `must be a string, got ${typeof v}`;
  if (v.length > max) return `must be at most ${max} characters, got ${v.length}`;
  if (!PRINTABLE.test(v)) return 'must not contain control characters';
  return undefined;
}

export interface MetadataProblem {
  /** The offending key, when the problem is one entry. */
  key?: string;
  message: string;
}

/** Metadata: at most N entries; keys of a boring alphabet; string values (or, in config, numbers and booleans too). */
export function metadataProblem(v: unknown, values: 'string' | 'scalar'): MetadataProblem | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { message: 'must be a map of strings' };
  const entries = Object.entries(v);
  const L = ENDPOINT_LIMITS;
  if (entries.length > L.metadataEntries) return { message: `at most ${L.metadataEntries} entries, got ${entries.length}` };
  for (const [key, value] of entries) {
    if (key === '' || key.length > L.metadataKey || !METADATA_KEY.test(key))
      return { key, message: `key must be 1..${L.metadataKey} letters, digits, "_", ".", "-" or "/"` };
    if (typeof value === 'string') {
      if (value.length > L.metadataValue) return { key, message: `must be at most ${L.metadataValue} characters, got ${value.length}` };
      if (!PRINTABLE.test(value)) return { key, message: 'must not contain control characters' };
    } else if (values === 'string' || !(typeof value === 'number' || typeof value === 'boolean')) {
      return { key, message: values === 'string' ? 'must be a string' : 'must be a string, number or boolean' };
    }
  }
  return undefined;
}

export interface EndpointFields {
  address: unknown;
  port: unknown;
  weight?: unknown;
  zone?: unknown;
  region?: unknown;
  metadata?: unknown;
}

export interface EndpointIssue {
  /** Field path below the endpoint, e.g. ['address'] or ['metadata', 'app']. */
  path: string[];
  message: string;
}

/** Every refusal for one endpoint (empty when it may be published). */
export function endpointIssues(e: EndpointFields, policy?: AddressPolicy, metadataValues: 'string' | 'scalar' = 'scalar'): EndpointIssue[] {
  const issues: EndpointIssue[] = [];
  const add = (path: string[], message: string | undefined): void => {
    if (message) issues.push({ path, message });
  };
  add(['address'], addressProblem(e.address, policy));
  add(['port'], portProblem(e.port));
  add(['weight'], weightProblem(e.weight));
  add(['zone'], localityProblem(e.zone, ENDPOINT_LIMITS.zone));
  add(['region'], localityProblem(e.region, ENDPOINT_LIMITS.region));
  const meta = metadataProblem(e.metadata, metadataValues);
  if (meta) issues.push({ path: meta.key === undefined ? ['metadata'] : ['metadata', meta.key], message: meta.message });
  return issues;
}

/** `metadata["k"]` for a key, as the status API names fields. */
const fieldName = (path: string[]): string => (path.length === 2 ? `${path[0]}[${show(path[1])}]` : (path[0] ?? ''));

/**
 * A registration as the service accepts it: the same rules as a config endpoint (string metadata
 * only). Throws InvalidArgumentError naming the first bad field. Without a policy only the syntax
 * and bounds are checked (the status edge); the service passes the configured policy.
 */
export function validateRegistration(req: RegistrationRequest, policy?: AddressPolicy): RegistrationRequest {
  const first = endpointIssues(req, policy, 'string')[0];
  if (first) throw new InvalidArgumentError(fieldName(first.path), first.message);
  return req;
}

/** Refuses one more endpoint when `current` (registered + configured) already reaches `max` (`limits.maxEndpoints`). */
export function checkEndpointCapacity(current: number, max: number): void {
  if (current >= max)
    throw new ResourceExhaustedError('limits.maxEndpoints', `endpoint limit reached: ${current} endpoints of at most ${max} (limits.maxEndpoints)`);
}
