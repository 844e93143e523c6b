/**
 * Config that proxyless gRPC clients (an `api` listener: `xds:///<name>`) are known to NACK.
 * A NACKed CDS resource fails every RPC routed to it, so `validate` refuses it with the reason.
 *
 * lb_policy (legacy field; healthmesh does not send load_balancing_policy):
 *   - grpc-go (xdsresource/unmarshal_cds.go): ROUND_ROBIN, RING_HASH, LEAST_REQUEST; anything
 *     else is "unexpected lbPolicy".
 *   - grpc-js-xds 1.14 (xds-resource-type/cluster-resource-type.js): ROUND_ROBIN, RING_HASH;
 *     anything else, LEAST_REQUEST included, is "unsupported lb_policy".
 * So only policies every one of them accepts pass behind an `api` listener.
 */
import type { Config } from './schema.js';

/** lb_policy values each proxyless client accepts (in the legacy `lb_policy` field). */
export const PROXYLESS_LB_POLICIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'grpc-go': ['ROUND_ROBIN', 'RING_HASH', 'LEAST_REQUEST'],
  'grpc-js-xds': ['ROUND_ROBIN', 'RING_HASH'],
});

export interface ProxylessIssue {
  path: (string | number)[];
  message: string;
  value: unknown;
}

type Shape = Pick<Config, 'listeners' | 'routes' | 'clusters'>;

/** Cluster name → the `api` listeners whose routes reach it. */
export function clustersBehindApiListeners(cfg: Shape): Map<string, string[]> {
  const routes = new Map(cfg.routes.map((r) => [r.name, r]));
  const out = new Map<string, string[]>();
  for (const l of cfg.listeners) {
    if (l.kind !== 'api') continue;
    for (const vh of routes.get(l.routeConfig)?.virtualHosts ?? []) {
      for (const rt of vh.routes) {
        const list = out.get(rt.cluster) ?? [];
        if (!list.includes(l.name)) list.push(l.name);
        out.set(rt.cluster, list);
      }
    }
  }
  return out;
}

export function proxylessIssues(cfg: Shape): ProxylessIssue[] {
  const behind = clustersBehindApiListeners(cfg);
  const issues: ProxylessIssue[] = [];
  cfg.clusters.forEach((c, i) => {
    const listeners = behind.get(c.name);
    if (!listeners) return;
    const rejecting = Object.entries(PROXYLESS_LB_POLICIES)
      .filter(([, ok]) => !ok.includes(c.lbPolicy))
      .map(([client]) => client);
    if (rejecting.length === 0) return;
    issues.push({
      path: ['clusters', i, 'lbPolicy'],
      message:
        `lbPolicy ${c.lbPolicy} is rejected by proxyless gRPC clients (${rejecting.join(', ')}), and cluster "${c.name}" is routed from api listener ${listeners.map((n) => `"${n}"`).join(', ')}; ` +
        `every RPC to it would fail. Use ROUND_ROBIN`,
      value: c.lbPolicy,
    });
  });
  return issues;
}
