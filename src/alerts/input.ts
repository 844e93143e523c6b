/**
 * What alert evaluation reads: the engine's endpoints, the cluster summaries and the proxies with an
 * unresolved NACK, mapped to the pure core's `AlertInput`. Only the NACKing proxies are read (the
 * ledger keeps that set), so an evaluation costs O(endpoints + clusters), not O(connected proxies).
 */
import type { AlertInput } from '../core/alerts.js';
import type { HealthEngine } from '../health/engine.js';
import type { ClusterSnapshot } from '../operations.js';
import type { Ledger } from '../xds/ledger.js';

export interface AlertSources {
  engine: Pick<HealthEngine, 'endpoints'>;
  clusters: () => readonly ClusterSnapshot[];
  ledger: Pick<Ledger, 'nacked'>;
}

const shortType = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

/** A reader of the current alert input over `s`. */
export function alertInputOf(s: AlertSources): () => AlertInput {
  return () => {
    const all = s.engine.endpoints();
    // Warming endpoints (new, first check pending) were never serving: not an incident, and not
    // part of a cluster's capacity yet (a cold start is not "0 of N healthy").
    const warming = new Map<string, number>();
    for (const e of all) if (e.decision.warming) warming.set(e.cluster, (warming.get(e.cluster) ?? 0) + 1);
    return {
      endpoints: all
        .filter((e) => !e.decision.warming)
        .map((e) => ({
          key: e.key,
          cluster: e.cluster,
          health: e.decision.health === 'DRAINING' ? 'UNHEALTHY' : e.decision.health,
          guarded: e.decision.guarded,
          drained: e.drained,
          flapping: e.decision.flapping,
          nodeId: e.decision.facts.nodeId,
          heartbeat: e.decision.facts.heartbeat,
          pressure: e.decision.facts.pressure,
        })),
      clusters: s.clusters().map((c) => ({
        name: c.name,
        total: c.total - (warming.get(c.name) ?? 0),
        healthy: c.healthy,
        guarded: c.guarded,
        allFailing: c.allFailing,
        reason: c.reason,
      })),
      proxies: s.ledger.nacked().map((p) => ({ nodeId: p.nodeId, nacked: p.nacked.map((n) => ({ type: shortType(n.typeUrl), message: n.message })) })),
    };
  };
}
