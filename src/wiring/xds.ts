import { adsAdmission, type Authenticator } from '../auth/index.js';
import type { Config } from '../config/schema.js';
import { createControlPlane, type ControlPlane } from '../controlplane.js';
import type { HealthEngine } from '../health/engine.js';
import type { Logger } from '../log.js';
import type { Membership } from '../membership/registry.js';
import { AssignmentJournal } from '../store/assignment-journal.js';
import type { Store } from '../store/index.js';
import { assignedEndpoints } from '../xds/endpoint-source.js';
import { GrpcHost } from './grpc-host.js';

export interface XdsParts {
  /** The one gRPC server of the xDS port: ADS, LRS, agents (and status, health, reflection unless status.listen). */
  grpc: GrpcHost;
  journal: AssignmentJournal;
  controlPlane: ControlPlane;
}

/** The xDS control plane on the root's gRPC server, its EDS read from membership × the engine's assignment. */
export function createXds(
  config: Readonly<Config>,
  deps: {
    logger: Logger;
    now: () => number;
    current: () => Readonly<Config>;
    store: Store;
    auth: Authenticator;
    membership: Membership;
    engine: HealthEngine;
    replicated: boolean;
  },
): XdsParts {
  const { logger, now, store, engine } = deps;
  const grpc = new GrpcHost({
    listen: config.xds.listen,
    config: config.xds,
    logger: logger.child({ component: 'xds' }),
    label: 'xDS',
    portName: 'the xDS/gRPC port',
  });
  const journal = new AssignmentJournal(store, { logger: logger.child({ component: 'journal' }), now });
  const controlPlane = createControlPlane(config, {
    logger,
    now,
    grpc,
    versionFloor: store.versionFloor(),
    admitAds: adsAdmission(deps.auth, () => deps.current().auth.requireProxyToken),
    // EDS = membership × assignment; the assignment is written ahead of every snapshot that publishes it.
    endpoints: assignedEndpoints(deps.membership, (key) => engine.published(key)?.decision),
    beforePublish: (next) => journal.flush(next.version),
    // Replicas serve identical versions for identical content.
    contentVersions: deps.replicated,
  });
  return { grpc, journal, controlPlane };
}
