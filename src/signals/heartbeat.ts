import { InvalidArgumentError } from '../errors.js';
import type { HeartbeatRequestWire, HostedEndpoint } from './agent-proto.js';

export interface HeartbeatLimits {
  /** Endpoints per heartbeat, at most. */
  maxEndpoints: number;
  /** Characters in node_id, at most. */
  maxNodeIdLength: number;
}

export const DEFAULT_HEARTBEAT_LIMITS: Readonly<HeartbeatLimits> = Object.freeze({ maxEndpoints: 1000, maxNodeIdLength: 256 });

export interface ValidHeartbeat {
  nodeId: string;
  endpoints: HostedEndpoint[];
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  intervalMs: number;
  agentVersion: string;
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** Same alphabet as cluster names in the config. */
const CLUSTER_NAME = /^[A-Za-z0-9_.:-]+$/;
const MAX_CLUSTER = 200;
const MAX_ADDRESS = 253;
const MAX_VERSION = 64;
const INTERVAL_MIN = 100;
const INTERVAL_MAX = 3_600_000;

const fail = (field: string, message: string): never => {
  throw new InvalidArgumentError(field, message);
};

function percent(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) fail(field, `must be 0..100, got ${String(v)}`);
  return v as number;
}

function text(field: string, v: unknown, max: number, required: boolean): string {
  if (v === undefined || v === null || v === '') {
    if (required) fail(field, 'required');
    return '';
  }
  if (typeof v !== 'string') return fail(field, 'must be a string');
  if (v.length > max) fail(field, `must be at most ${max} characters, got ${v.length}`);
  return v;
}

function endpoint(i: number, e: unknown): HostedEndpoint {
  const at = `endpoints[${i}]`;
  if (typeof e !== 'object' || e === null) return fail(at, 'must be an endpoint');
  const raw = e as Partial<HostedEndpoint>;
  const cluster = text(`${at}.cluster`, raw.cluster, MAX_CLUSTER, true);
  if (!CLUSTER_NAME.test(cluster)) fail(`${at}.cluster`, 'letters, digits, "_", ".", ":" or "-" only');
  const address = text(`${at}.address`, raw.address, MAX_ADDRESS, true);
  if (!VISIBLE_ASCII.test(address)) fail(`${at}.address`, 'must be a host name or IP address');
  const port = raw.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail(`${at}.port`, `must be 1..65535, got ${String(port)}`);
  return { cluster, address, port: port as number };
}

/**
 * Checks every field of a decoded heartbeat; throws InvalidArgumentError naming the first bad field
 * (`node_id: required`, `cpu_percent: must be 0..100, got 140`, `endpoints[2].port: must be 1..65535, got 0`).
 */
export function validateHeartbeat(req: Partial<HeartbeatRequestWire>, limits: HeartbeatLimits = DEFAULT_HEARTBEAT_LIMITS): ValidHeartbeat {
  const nodeId = text('node_id', req.node_id, limits.maxNodeIdLength, true);
  if (!VISIBLE_ASCII.test(nodeId)) fail('node_id', 'visible ASCII characters only (no spaces)');

  const list = req.endpoints ?? [];
  if (!Array.isArray(list)) fail('endpoints', 'must be a list');
  if (list.length > limits.maxEndpoints) fail('endpoints', `at most ${limits.maxEndpoints} per heartbeat, got ${list.length}`);
  const seen = new Map<string, number>();
  const endpoints = list.map((e, i) => {
    const ep = endpoint(i, e);
    const key = `${ep.cluster}/${ep.address}:${ep.port}`;
    const first = seen.get(key);
    if (first !== undefined) fail(`endpoints[${i}]`, `duplicate of endpoints[${first}] (${key})`);
    seen.set(key, i);
    return ep;
  });

  const cpuPercent = percent('cpu_percent', req.cpu_percent);
  const memoryPercent = percent('memory_percent', req.memory_percent);
  const diskPercent = percent('disk_percent', req.disk_percent);

  const intervalMs = req.interval_ms;
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < INTERVAL_MIN || intervalMs > INTERVAL_MAX) {
    fail('interval_ms', `must be ${INTERVAL_MIN}..${INTERVAL_MAX}, got ${String(intervalMs)}`);
  }
  const agentVersion = text('agent_version', req.agent_version, MAX_VERSION, false);
  if (agentVersion && !/^[\x20-\x7e]+$/.test(agentVersion)) fail('agent_version', 'printable ASCII only');

  return { nodeId, endpoints, cpuPercent, memoryPercent, diskPercent, intervalMs: intervalMs as number, agentVersion };
}
