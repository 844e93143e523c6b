import { InvalidArgumentError } from '../errors.js';
import type { HostedEndpoint } from '../signals/agent-proto.js';

const CLUSTER = /^[A-Za-z0-9_.:-]{1,200}$/;
const HOST = /^[A-Za-z0-9_.-]{1,253}$/;

function port(field: string, raw: string, spec: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new InvalidArgumentError(field, `port must be 1..65535 in "${spec}"`);
  return n;
}

/** `host:port` or `[v6]:port` → parts (brackets removed). */
function hostPort(field: string, s: string, spec: string): { address: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:([^:]*)$/.exec(s) ?? /^([^:[\]]+):([^:]*)$/.exec(s);
  if (!m)
    throw new InvalidArgumentError(
      field,
      `expected ${field === '--control-plane' ? 'host:port' : 'cluster/address:port'}, e.g. ${field === '--control-plane' ? '127.0.0.1:18000' : 'demo/127.0.0.1:9101'}; got "${spec}"`,
    );
  const address = m[1] ?? '';
  if (!s.startsWith('[') && !HOST.test(address)) throw new InvalidArgumentError(field, `"${address}" is not a host name or IP address in "${spec}"`);
  return { address, port: port(field, m[2] ?? '', spec) };
}

/** Parses `--endpoint cluster/address:port` (e.g. `demo/127.0.0.1:9101`, `demo/[::1]:9101`). */
export function parseEndpointSpec(spec: string): HostedEndpoint {
  const slash = spec.indexOf('/');
  if (slash < 0) throw new InvalidArgumentError('--endpoint', `expected cluster/address:port, e.g. demo/127.0.0.1:9101; got "${spec}"`);
  const cluster = spec.slice(0, slash);
  if (!CLUSTER.test(cluster))
    throw new InvalidArgumentError('--endpoint', `cluster "${cluster}" must be 1-200 letters, digits, "_", ".", ":" or "-" in "${spec}"`);
  return { cluster, ...hostPort('--endpoint', spec.slice(slash + 1), spec) };
}

/** Parses `--control-plane host:port` and returns it unchanged (gRPC target). */
export function parseControlPlane(target: string): string {
  hostPort('--control-plane', target, target);
  return target;
}

/** Parses `--interval-ms` (100..3600000). */
export function parseIntervalMs(raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 100 && n <= 3_600_000)) throw new InvalidArgumentError('--interval-ms', `must be 100..3600000, got "${raw}"`);
  return n;
}

/** Parses `--node-id`: 1-256 visible ASCII characters (what the control plane accepts). */
export function parseNodeId(raw: string): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(raw))
    throw new InvalidArgumentError('--node-id', `must be 1-256 visible ASCII characters (no spaces), got "${raw.slice(0, 300)}"`);
  return raw;
}

/** Parses `--token`: 16-4096 visible ASCII characters (what a bearer token in gRPC metadata can carry). */
export function parseToken(raw: string): string {
  const t = raw.trim();
  if (!/^[\x21-\x7e]{16,4096}$/.test(t)) throw new InvalidArgumentError('--token', 'must be 16-4096 visible ASCII characters (no spaces)');
  return t;
}
