/**
 * Alert rules as pure functions: from a picture of the current state, derive the conditions that
 * hold (one per rule and subject, aggregated per cluster or node), then reconcile them with the
 * alerts already open: fire, update, resolve, with a cooldown against re-notification.
 */
export type AlertLevel = 'info' | 'warning' | 'critical';

export interface RuleSettings {
  enabled: boolean;
  level: AlertLevel;
}

export interface AlertPolicy {
  cooldownMs: number;
  rules: {
    endpointUnhealthy: RuleSettings;
    clusterCapacity: RuleSettings & { belowPercent: number };
    flapping: RuleSettings;
    nack: RuleSettings;
    heartbeatMissing: RuleSettings;
    resources: RuleSettings;
  };
}

export interface AlertInputEndpoint {
  key: string;
  cluster: string;
  health: 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';
  guarded: boolean;
  drained: boolean;
  flapping: boolean;
  nodeId?: string | undefined;
  heartbeat?: 'late' | 'lost' | undefined;
  pressure: readonly string[];
}

export interface AlertInputCluster {
  name: string;
  total: number;
  healthy: number;
  guarded: number;
  allFailing: boolean;
  reason?: string | undefined;
}

export interface AlertInputProxy {
  nodeId: string;
  /** Resource types whose latest NACK has not been followed by an ACK, with Envoy's text. */
  nacked: ReadonlyArray<{ type: string; message: string }>;
}

export interface AlertInput {
  endpoints: readonly AlertInputEndpoint[];
  clusters: readonly AlertInputCluster[];
  proxies: readonly AlertInputProxy[];
}

export interface Condition {
  rule: string;
  subject: string;
  level: AlertLevel;
  cluster?: string | undefined;
  message: string;
}

/** An alert as raised, updated and resolved (the record operators see and the store keeps). */
export interface OpenAlert {
  id: string;
  rule: string;
  /** What it is about: a cluster name, an endpoint key, a proxy node id. */
  subject: string;
  level: AlertLevel;
  cluster?: string | undefined;
  message: string;
  state: 'firing' | 'resolved';
  firedAt: number;
  /** Last time the condition was seen (aggregated repeats update it). */
  lastSeenAt: number;
  resolvedAt?: number | undefined;
  acknowledgedAt?: number | undefined;
  acknowledgedBy?: string | undefined;
  /** How many times it fired or was re-raised while firing. */
  count: number;
}

export const conditionKey = (c: { rule: string; subject: string }): string => `${c.rule}\u0000${c.subject}`;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max)}…`);
const list = (items: readonly string[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const bucket = out.get(k);
    if (bucket) bucket.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** The conditions that hold now. Aggregated: one per cluster or node, never one per endpoint. */
export function deriveConditions(input: AlertInput, policy: AlertPolicy): Condition[] {
  const r = policy.rules;
  const out: Condition[] = [];
  if (r.endpointUnhealthy.enabled) {
    for (const [cluster, eps] of groupBy(
      input.endpoints.filter((e) => (e.health === 'UNHEALTHY' || e.guarded) && !e.drained),
      (e) => e.cluster,
    )) {
      // Stable text (no counters) so a still-failing set is not re-announced on every probe.
      out.push({
        rule: 'endpoint_unhealthy',
        subject: cluster,
        cluster,
        level: r.endpointUnhealthy.level,
        message: `${eps.length} endpoint(s) failing in cluster ${cluster}: ${list(eps.map((e) => e.key.slice(cluster.length + 1)))}`,
      });
    }
  }
  if (r.clusterCapacity.enabled) {
    for (const c of input.clusters) {
      if (c.total === 0) continue;
      const share = (100 * c.healthy) / c.total;
      const guarded = c.guarded > 0 || c.allFailing;
      if (share >= r.clusterCapacity.belowPercent && !guarded) continue;
      const parts = [`cluster ${c.name}: ${c.healthy} of ${c.total} endpoints healthy (${Math.round(share)}% < ${r.clusterCapacity.belowPercent}%)`];
      if (c.allFailing) parts.push('every endpoint is failing; none are removed (reported, not emptied)');
      if (c.reason) parts.push(`guard: ${c.reason}`);
      out.push({
        rule: 'cluster_capacity',
        subject: c.name,
        cluster: c.name,
        level: guarded ? 'critical' : r.clusterCapacity.level,
        message: parts.join('; '),
      });
    }
  }
  if (r.flapping.enabled) {
    for (const [cluster, eps] of groupBy(
      input.endpoints.filter((e) => e.flapping),
      (e) => e.cluster,
    )) {
      out.push({
        rule: 'flapping',
        subject: cluster,
        cluster,
        level: r.flapping.level,
        message: `${eps.length} endpoint(s) flapping in cluster ${cluster}, held down: ${list(eps.map((e) => e.key.slice(cluster.length + 1)))}`,
      });
    }
  }
  if (r.nack.enabled) {
    // One alert for the rule, whatever node ids clients choose: they are listed (capped), never keys.
    const nacking = input.proxies.filter((p) => p.nacked.length > 0).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const first = nacking[0];
    if (first) {
      const who = list(
        nacking.map((p) => `${clip(p.nodeId, 100)} (${p.nacked.map((n) => n.type).join(', ')})`),
        10,
      );
      const text = clip(first.nacked[0]!.message, 500);
      const message =
        nacking.length === 1
          ? `proxy ${who} rejected configuration: ${text}`
          : `${nacking.length} proxies rejected configuration: ${who}; first error (${clip(first.nodeId, 100)}): ${text}`;
      out.push({ rule: 'nack', subject: 'proxies', level: r.nack.level, message });
    }
  }
  if (r.heartbeatMissing.enabled) {
    for (const [node, eps] of groupBy(
      input.endpoints.filter((e) => e.heartbeat),
      (e) => e.nodeId,
    )) {
      const lost = eps.some((e) => e.heartbeat === 'lost');
      out.push({
        rule: 'heartbeat_missing',
        subject: node,
        level: lost ? 'critical' : r.heartbeatMissing.level,
        message: `node ${node}: heartbeats ${lost ? 'lost, its endpoints fail' : 'late, its endpoints are degraded'} (${list(eps.map((e) => e.key))})`,
      });
    }
  }
  if (r.resources.enabled) {
    for (const [node, eps] of groupBy(
      input.endpoints.filter((e) => e.pressure.length > 0),
      (e) => e.nodeId,
    )) {
      const kinds = [...new Set(eps.flatMap((e) => e.pressure))];
      out.push({
        rule: 'resources',
        subject: node,
        level: r.resources.level,
        message: `node ${node}: ${kinds.join(', ')} above limit (${list(eps.map((e) => e.key))})`,
      });
    }
  }
  return out;
}

export interface Reconciled {
  /** New alerts and re-fired ones past their cooldown: notify. */
  fired: OpenAlert[];
  /** Re-fired within the cooldown: reopened silently. */
  suppressed: OpenAlert[];
  /** Still firing with a changed message or level. */
  updated: OpenAlert[];
  resolved: OpenAlert[];
}

/**
 * Compare conditions with known alerts (firing and recently resolved). Pure: returns new records,
 * never mutates its inputs. `newId` makes ids for new alerts.
 */
export function reconcileAlerts(
  known: ReadonlyMap<string, OpenAlert>,
  conditions: readonly Condition[],
  now: number,
  policy: AlertPolicy,
  newId: () => string,
): Reconciled {
  const out: Reconciled = { fired: [], suppressed: [], updated: [], resolved: [] };
  const holding = new Set<string>();
  for (const c of conditions) {
    const key = conditionKey(c);
    holding.add(key);
    const prev = known.get(key);
    if (prev?.state === 'firing') {
      if (prev.message !== c.message || prev.level !== c.level) out.updated.push({ ...prev, message: c.message, level: c.level, lastSeenAt: now });
      continue;
    }
    if (prev && prev.state === 'resolved' && prev.resolvedAt !== undefined && now - prev.firedAt < policy.cooldownMs) {
      out.suppressed.push({ ...prev, state: 'firing', message: c.message, level: c.level, lastSeenAt: now, resolvedAt: undefined, count: prev.count + 1 });
      continue;
    }
    out.fired.push({
      id: newId(),
      rule: c.rule,
      subject: c.subject,
      cluster: c.cluster,
      level: c.level,
      message: c.message,
      state: 'firing',
      firedAt: now,
      lastSeenAt: now,
      count: 1,
    });
  }
  for (const [key, a] of known) {
    if (a.state === 'firing' && !holding.has(key)) out.resolved.push({ ...a, state: 'resolved', resolvedAt: now });
  }
  return out;
}
