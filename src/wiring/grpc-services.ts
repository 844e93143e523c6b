import type { Authenticator } from '../auth/index.js';
import type { Config } from '../config/schema.js';
import type { ControlPlane } from '../controlplane.js';
import type { HealthEngine } from '../health/engine.js';
import type { Logger } from '../log.js';
import type { Replication } from '../replication/wiring.js';
import type { HealthmeshService } from '../service.js';
import { AgentIntake } from '../signals/agent-intake.js';
import { LrsService } from '../signals/lrs.js';
import { SelfServices } from '../status/health.js';
import { StatusService } from '../status/service.js';
import { GrpcHost } from './grpc-host.js';

/**
 * Registers the services besides ADS: LRS and agent heartbeats on the xDS port; status, grpc.health.v1
 * and reflection there too, or on a second server of their own when `status.listen` is set.
 * Returns the status host (the xDS one when shared).
 */
export function serveGrpc(
  config: Readonly<Config>,
  deps: {
    logger: Logger;
    now: () => number;
    auth: Authenticator;
    engine: HealthEngine;
    controlPlane: ControlPlane;
    service: HealthmeshService;
    xdsHost: GrpcHost;
    /** Replicated: a proxy's ADS stream may be on another replica. */
    replication?: Pick<Replication, 'adsStreamElsewhere'> | undefined;
  },
): GrpcHost {
  const { logger, now, auth, engine } = deps;
  const lrs = new LrsService({
    config: config.lrs,
    logger: logger.child({ component: 'lrs' }),
    now,
    onTraffic: (key, sample) => engine.onTraffic(key, sample),
    auth,
    hasAdsStream: (nodeId) => deps.controlPlane.ledger.hasOpenStream(nodeId) || (deps.replication?.adsStreamElsewhere(nodeId) ?? false),
  });
  const agents = new AgentIntake({
    auth,
    logger: logger.child({ component: 'agents' }),
    now,
    intervalMs: Math.max(1000, Math.floor(config.agents.heartbeatTimeoutMs / 3)),
    onHeartbeat: (hb) => engine.onHeartbeat(hb),
  });
  deps.xdsHost.serve(lrs, agents);
  const status = new StatusService({ ops: deps.service, logger: logger.child({ component: 'status' }), config: config.status, auth, now });
  const self = new SelfServices({ ops: deps.service, logger: logger.child({ component: 'grpc-health' }) });
  const statusHost = config.status.listen
    ? new GrpcHost({
        listen: config.status.listen,
        config: config.xds,
        logger: logger.child({ component: 'status' }),
        label: 'status',
        portName: 'the status gRPC port (status.listen)',
      })
    : deps.xdsHost;
  statusHost.serve(status, self);
  return statusHost;
}
