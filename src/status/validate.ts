/**
 * Field-by-field validation of decoded healthmesh.v1.Status requests. Each function throws an
 * InvalidArgumentError naming the first bad field (`port: must be 1..65535, got 0`) and returns the
 * request in the Operations' vocabulary. Pure: whether a cluster exists is the service's business.
 * Requests are typed in their permissive form (StatusRequest): an enum value the decoder does not
 * know arrives as its number, and every field is checked rather than trusted.
 */
import { ENDPOINT_LIMITS, show, validateRegistration } from '../config/endpoint-rules.js';
import { endpointKey, type EndpointKey, type Status } from '../core/model.js';
import { InvalidArgumentError } from '../errors.js';
import type { AlertLevel, AlertRecord, HistoryQuery, RegistrationRequest } from '../operations.js';
import { ALERT_LEVEL_TO_WIRE, ALERT_STATE_TO_WIRE, STATUS_TO_WIRE, invert } from './convert.js';
import type { StatusRequest, WatchRequestWire } from './proto.js';

/** Registration bounds are the endpoint rules' (config/endpoint-rules.ts), shared with the config file. */
export const LIMITS = Object.freeze({
  ...ENDPOINT_LIMITS,
  cluster: 200,
  /** Lookups accept any address an endpoint may have been stored under (host names from older versions). */
  lookupAddress: 253,
  historyLimit: 100_000,
});

/** Same alphabet as cluster names in the config. */
const CLUSTER_NAME = /^[A-Za-z0-9_.:-]+$/;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const PRINTABLE = /^[^\p{Cc}]*$/u;

const fail = (field: string, message: string): never => {
  throw new InvalidArgumentError(field, message);
};

function str(field: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') return fail(field, `must be a string, got ${typeof v}`);
  return v;
}

export function clusterName(field: string, v: unknown, required: boolean): string | undefined {
  const s = str(field, v);
  if (s === '') return required ? fail(field, 'required') : undefined;
  if (s.length > LIMITS.cluster) fail(field, `must be at most ${LIMITS.cluster} characters, got ${s.length}`);
  if (!CLUSTER_NAME.test(s)) fail(field, `letters, digits, "_", ".", ":" or "-" only, got ${show(s)}`);
  return s;
}

/** An address to look an endpoint up by: lenient (whatever the config may have declared). */
function lookupAddress(field: string, v: unknown): string {
  const s = str(field, v);
  if (s === '') return fail(field, 'required');
  if (s.length > LIMITS.lookupAddress) fail(field, `must be at most ${LIMITS.lookupAddress} characters, got ${s.length}`);
  if (!VISIBLE_ASCII.test(s)) fail(field, `must be a host name or IP address, got ${show(s)}`);
  return s;
}

function port(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) fail(field, `must be 1..65535, got ${String(v)}`);
  return v as number;
}

function millis(field: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return fail(field, `must be milliseconds since the epoch (>= 0), got ${String(v)}`);
  return v;
}

function window(from: unknown, to: unknown): { from?: number; to?: number } {
  const f = millis('from_ms', from);
  const t = millis('to_ms', to);
  if (f !== undefined && t !== undefined && t < f) fail('to_ms', `must not be before from_ms (${f}), got ${t}`);
  return { from: f, to: t };
}

function text(field: string, v: unknown, max: number): string | undefined {
  const s = str(field, v);
  if (s === '') return undefined;
  if (s.length > max) fail(field, `must be at most ${max} characters, got ${s.length}`);
  if (!PRINTABLE.test(s)) fail(field, 'must not contain control characters');
  return s;
}

/** An enum field: UNSPECIFIED (or absent) → undefined; an unknown value is refused. */
function enumValue<T>(field: string, v: unknown, map: ReadonlyMap<string, T>, unspecified: string): T | undefined {
  if (v === undefined || v === null || v === unspecified || v === 0) return undefined;
  const known = typeof v === 'string' ? map.get(v) : undefined;
  if (known === undefined) fail(field, `unknown value ${show(v)}; one of ${[...map.keys()].join(', ')}`);
  return known;
}

const STATUS_FROM_WIRE = invert(STATUS_TO_WIRE) as ReadonlyMap<string, Status>;
const LEVEL_FROM_WIRE = invert(ALERT_LEVEL_TO_WIRE) as ReadonlyMap<string, AlertLevel>;
const STATE_FROM_WIRE = invert(ALERT_STATE_TO_WIRE) as ReadonlyMap<string, AlertRecord['state']>;

export function validateListEndpoints(req: StatusRequest<'ListEndpoints'>): { cluster?: string; status?: Status } {
  return {
    cluster: clusterName('cluster', req.cluster, false),
    status: enumValue('status', req.status, STATUS_FROM_WIRE, 'HEALTH_STATUS_UNSPECIFIED'),
  };
}

export interface EndpointRef {
  key: EndpointKey;
  cluster: string;
  address: string;
  port: number;
}

/** `cluster/address:port` (address may be an IPv6 literal, bracketed or not). */
export function parseEndpointKey(field: string, v: string): EndpointRef {
  const slash = v.indexOf('/');
  const colon = v.lastIndexOf(':');
  if (slash < 1 || colon < slash + 2 || colon === v.length - 1) return fail(field, `must be cluster/address:port, e.g. demo/127.0.0.1:9101; got ${show(v)}`);
  const cluster = clusterName(field, v.slice(0, slash), true) as string;
  let address = v.slice(slash + 1, colon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  address = lookupAddress(field, address);
  const digits = v.slice(colon + 1);
  const p = port(field, /^\d{1,5}$/.test(digits) ? Number(digits) : digits);
  return { key: endpointKey(cluster, address, p), cluster, address, port: p };
}

function endpointRef(req: { cluster?: unknown; address?: unknown; port?: unknown }): EndpointRef {
  const cluster = clusterName('cluster', req.cluster, true) as string;
  const address = lookupAddress('address', req.address);
  const p = port('port', req.port);
  return { key: endpointKey(cluster, address, p), cluster, address, port: p };
}

export function validateGetEndpoint(req: StatusRequest<'GetEndpoint'>, defaultHistoryLimit: number): { ref: EndpointRef; history: HistoryQuery } {
  const key = str('key', req.key);
  const byParts = Boolean(req.cluster) || Boolean(req.address) || Boolean(req.port);
  let ref: EndpointRef;
  if (key !== '') {
    if (byParts) fail('key', 'give either key or cluster + address + port, not both');
    ref = parseEndpointKey('key', key);
  } else {
    if (!byParts) fail('key', 'required (or cluster + address + port)');
    ref = endpointRef(req);
  }
  const limit = req.history_limit ?? 0;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > LIMITS.historyLimit) {
    fail('history_limit', `must be 0..${LIMITS.historyLimit} (0: the default, ${defaultHistoryLimit}), got ${String(limit)}`);
  }
  return { ref, history: { ...window(req.from_ms, req.to_ms), limit: limit === 0 ? defaultHistoryLimit : limit } };
}

export function validateWatch(req: Partial<WatchRequestWire>): { cluster?: string } {
  return { cluster: clusterName('cluster', req.cluster, false) };
}

/**
 * Wire → RegistrationRequest (proto3 defaults mapped away), then the endpoint rules shared with the
 * config file and the service: an IP literal (no host names), port, weight, zone, region, metadata.
 * The service applies the same rules again with the configured address policy (health.allowTargets).
 */
export function validateRegister(req: StatusRequest<'RegisterEndpoint'>): RegistrationRequest {
  const cluster = clusterName('cluster', req.cluster, true) as string;
  const w = req.weight ?? 0;
  const raw = req.metadata ?? {};
  const metadata =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.keys(raw).length === 0 ? undefined : (raw as Record<string, string>);
  return validateRegistration({
    cluster,
    address: str('address', req.address),
    port: req.port as number,
    weight: w === 0 ? undefined : w,
    zone: text('zone', req.zone, LIMITS.zone),
    region: text('region', req.region, LIMITS.region),
    metadata,
  });
}

export function validateDeregister(req: StatusRequest<'DeregisterEndpoint'>): EndpointRef {
  return endpointRef(req);
}

export function validateListAlerts(req: StatusRequest<'ListAlerts'>): {
  state?: AlertRecord['state'];
  level?: AlertLevel;
  from?: number;
  to?: number;
} {
  return {
    state: enumValue('state', req.state, STATE_FROM_WIRE, 'ALERT_STATE_UNSPECIFIED'),
    level: enumValue('level', req.level, LEVEL_FROM_WIRE, 'ALERT_LEVEL_UNSPECIFIED'),
    ...window(req.from_ms, req.to_ms),
  };
}
