import { endpointKey, type EndpointKey, type TrafficSample } from '../core/model.js';
import { durationToMs, type LoadStatsRequest, type UpstreamEndpointStats } from './lrs-proto.js';

export interface ExtractOptions {
  /** Sample time (the receiving clock). */
  at: number;
  /** Used when a cluster's report carries no load_report_interval. */
  fallbackIntervalMs: number;
  /** Endpoint entries examined per message, at most (bounded work). */
  maxEndpoints: number;
}

export interface ExtractedTraffic {
  /** One sample per endpoint that saw requests complete in the interval. */
  samples: Array<{ key: EndpointKey; sample: TrafficSample }>;
  /** Entries that could not be read (no cluster name, no socket address, bad port or counts). */
  skipped: number;
  /** True when the message held more entries than maxEndpoints (the rest were ignored). */
  truncated: boolean;
}

const count = (v: unknown): number | undefined => {
  const n = v === undefined || v === null ? 0 : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
};

function endpointOf(e: UpstreamEndpointStats): { address: string; port: number } | undefined {
  const sa = e.address?.socket_address;
  const address = sa?.address;
  const port = Number(sa?.port_value);
  if (!address || typeof address !== 'string' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { address, port };
}

/**
 * Per-endpoint traffic samples of one LoadStatsRequest (requires report_endpoint_granularity).
 * Endpoints with no completed request in the interval are left out; the same endpoint reported twice
 * (e.g. under two priorities) is summed.
 */
export function extractTraffic(req: LoadStatsRequest, opts: ExtractOptions): ExtractedTraffic {
  const byKey = new Map<EndpointKey, TrafficSample>();
  let skipped = 0;
  let examined = 0;
  let truncated = false;
  outer: for (const cluster of req.cluster_stats ?? []) {
    const name = cluster.cluster_name;
    const intervalMs = durationToMs(cluster.load_report_interval) ?? opts.fallbackIntervalMs;
    for (const locality of cluster.upstream_locality_stats ?? []) {
      for (const e of locality.upstream_endpoint_stats ?? []) {
        if (examined >= opts.maxEndpoints) {
          truncated = true;
          break outer;
        }
        examined++;
        const ep = endpointOf(e);
        const successes = count(e.total_successful_requests);
        const errors = count(e.total_error_requests);
        if (!name || !ep || successes === undefined || errors === undefined) {
          skipped++;
          continue;
        }
        if (successes + errors === 0) continue;
        const key = endpointKey(name, ep.address, ep.port);
        const prev = byKey.get(key);
        if (prev) {
          prev.successes += successes;
          prev.errors += errors;
        } else {
          byKey.set(key, { at: opts.at, intervalMs, successes, errors });
        }
      }
    }
  }
  return { samples: [...byKey].map(([key, sample]) => ({ key, sample })), skipped, truncated };
}
