/** Human-readable text for the `healthmesh status` and `healthmesh proxies` commands. Pure functions. */
import type { ClusterWire, EndpointWire, ProxyWire, WatchEventWire } from './proto.js';

/** `HEALTH_STATUS_HEALTHY` → `HEALTHY`, `CIRCUIT_STATE_HALF_OPEN` → `half-open`, `XDS_PROTOCOL_DELTA` → `delta`. */
export function shortEnum(v: string | number): string {
  const s = String(v);
  for (const [prefix, lower] of [
    ['HEALTH_STATUS_', false],
    ['ALERT_LEVEL_', false],
    ['ALERT_STATE_', true],
    ['CIRCUIT_STATE_', true],
    ['XDS_PROTOCOL_', true],
    ['ENDPOINT_SOURCE_', true],
  ] as const) {
    if (s.startsWith(prefix)) {
      const rest = s.slice(prefix.length);
      return lower ? rest.toLowerCase().replace(/_/g, '-') : rest;
    }
  }
  return s;
}

/** At most `max` characters, on one line. */
export function truncate(s: string, max: number): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 3))}...`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const hostPort = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
const score = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function flags(e: EndpointWire): string {
  const f = [e.drained && 'drained', e.guarded && 'guarded', e.flapping && 'flapping'].filter(Boolean);
  return f.length > 0 ? ` (${f.join(', ')})` : '';
}

export const REASON_WIDTH = 60;

export function endpointTable(endpoints: EndpointWire[]): string {
  const rows = [...endpoints]
    .sort((a, b) => (a.cluster === b.cluster ? (a.key < b.key ? -1 : 1) : a.cluster < b.cluster ? -1 : 1))
    .map((e) => [
      e.cluster,
      hostPort(e.address, e.port),
      `${shortEnum(e.status)}${flags(e)}`,
      shortEnum(e.circuit),
      shortEnum(e.health),
      `${e.weight}/${e.target_weight}`,
      score(e.score),
      `${(100 * (e.expected_share ?? 0)).toFixed(1)}%`,
      truncate(e.reasons[0] ?? '-', REASON_WIDTH),
    ]);
  return table(['CLUSTER', 'ENDPOINT', 'STATUS', 'CIRCUIT', 'HEALTH', 'WEIGHT', 'SCORE', 'SHARE', 'REASON'], rows);
}

export function clusterLine(c: ClusterWire): string {
  const parts = [`${c.healthy}/${c.total} healthy`, `${c.failing} failing`, `${c.ejected} ejected (max ${c.max_ejected})`];
  if (c.guarded > 0) parts.push(`${c.guarded} guarded`);
  let s = `cluster ${c.name}: ${parts.join(', ')}`;
  if (c.all_failing) s += ', ALL FAILING';
  if (c.reason) s += ` - ${truncate(c.reason, REASON_WIDTH)}`;
  return s;
}

/** The full `healthmesh status` output. */
export function statusReport(clusters: ClusterWire[], endpoints: EndpointWire[]): string {
  const lines = [endpoints.length > 0 ? endpointTable(endpoints) : 'no endpoints'];
  if (clusters.length > 0) lines.push('', ...[...clusters].sort((a, b) => (a.name < b.name ? -1 : 1)).map(clusterLine));
  return `${lines.join('\n')}\n`;
}

const change = (from: string | undefined, to: string): string => (from === undefined || from === to ? to : `${from} -> ${to}`);

/** One line per watched change (the member of the `event` oneof that is set decides which). */
export function watchLine(ev: WatchEventWire): string {
  const at = ev.at_ms > 0 ? new Date(ev.at_ms).toISOString() : '-';
  if (ev.endpoint) {
    const e = ev.endpoint;
    const p = ev.previous ?? undefined;
    const reason = e.reasons[0] ? ` "${truncate(e.reasons[0], REASON_WIDTH)}"` : '';
    return (
      `${at} endpoint ${e.key} ${change(p && shortEnum(p.health), shortEnum(e.health))}` +
      ` status ${change(p && shortEnum(p.status), shortEnum(e.status))}${flags(e)}` +
      ` circuit ${change(p && shortEnum(p.circuit), shortEnum(e.circuit))}` +
      ` weight ${change(p && String(p.weight), String(e.weight))}/${e.target_weight}` +
      ` score ${score(e.score)}${reason}`
    );
  }
  if (ev.endpoint_removed) return `${at} endpoint ${ev.endpoint_removed.key} removed`;
  if (ev.cluster) return `${at} ${clusterLine(ev.cluster)}`;
  if (ev.alert) {
    const a = ev.alert;
    return `${at} alert ${shortEnum(a.level)} ${shortEnum(a.state)} ${a.rule} ${a.subject}: ${truncate(a.message, 2 * REASON_WIDTH)}`;
  }
  if (ev.synced) return `${at} synced (${ev.synced.clusters} clusters, ${ev.synced.endpoints} endpoints)`;
  return `${at} ${ev.event ?? 'empty'} event`;
}

const TYPE_NAMES: Record<string, string> = { Listener: 'LDS', RouteConfiguration: 'RDS', Cluster: 'CDS', ClusterLoadAssignment: 'EDS' };
/** `type.googleapis.com/envoy.config.cluster.v3.Cluster` → `CDS`. */
export const typeName = (url: string): string => {
  const last = url.slice(url.lastIndexOf('.') + 1);
  return TYPE_NAMES[last] ?? last;
};

export const NACK_WIDTH = 60;

/** The full `healthmesh proxies` output: one row per proxy and resource type. */
export function proxyReport(proxies: ProxyWire[]): string {
  if (proxies.length === 0) return 'no proxies connected\n';
  const rows: string[][] = [];
  for (const p of [...proxies].sort((a, b) => (a.node_id < b.node_id ? -1 : a.node_id > b.node_id ? 1 : 0))) {
    const head = [p.node_id, shortEnum(p.protocol), p.peer];
    if (p.types.length === 0) rows.push([...head, '-', '-', '-', '-', '0', '-']);
    p.types.forEach((t, i) => {
      const held = (t.held_back ?? []).length > 0 ? `held back: ${truncate((t.held_back ?? []).join(','), 40)}; ` : t.bisecting ? 'bisecting; ' : '';
      const nack = t.last_nack ? `${held}${t.last_nack.version}: ${truncate(t.last_nack.message, NACK_WIDTH)}` : '-';
      rows.push([
        ...(i === 0 ? head : ['', '', '']),
        typeName(t.type_url),
        t.sent_version || '-',
        t.acked_version || '-',
        t.publish_to_ack_ms === undefined || t.publish_to_ack_ms === null ? '-' : `${t.publish_to_ack_ms} ms`,
        String(t.nacks),
        nack,
      ]);
    });
  }
  return `${table(['NODE', 'PROTOCOL', 'PEER', 'TYPE', 'SENT', 'ACKED', 'PUBLISH->ACK', 'NACKS', 'LAST NACK'], rows)}\n`;
}

/** JSON of wire messages without proto-loader's synthetic `_field` oneof names (proto3 `optional`). */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (k, v: unknown) => (k.startsWith('_') ? undefined : v), indent);
}
