import type { Server } from '@grpc/grpc-js';
import type { Config } from './config/schema.js';
import { silentLogger, type Logger } from './log.js';
import { SnapshotCache } from './xds/cache.js';
import type { EndpointSource } from './xds/endpoint-source.js';
import { Ledger } from './xds/ledger.js';
import type { Snapshot } from './xds/snapshot.js';
import { XdsServer, type XdsServerOptions } from './xds/server.js';
import { Topology } from './xds/topology.js';
import { VersionClock } from './xds/versions.js';

export interface ControlPlaneOptions {
  logger?: Logger;
  now?: () => number;
  /** Lowest version to issue (the last one persisted before a restart). */
  versionFloor?: string;
  /** Register more gRPC services on the xDS port (LRS, agent heartbeats, status). */
  extend?: (server: Server) => void;
  /** EDS: membership × assignment (absent: endpoints as configured, settable by hand). */
  endpoints?: EndpointSource;
  /** Runs with each new snapshot before any stream sees it (write-ahead persistence). */
  beforePublish?: (next: Snapshot) => void;
  /** Admission of ADS streams (proxy token when auth.requireProxyToken). */
  admitAds?: XdsServerOptions['admitAds'];
  /** SotW type versions derived from content instead of the clock (replicated mode). */
  contentVersions?: boolean;
}

export interface ControlPlane {
  readonly topology: Topology;
  readonly ledger: Ledger;
  readonly cache: SnapshotCache;
  readonly xds: XdsServer;
  start(): Promise<{ port: number }>;
  reload(config: Readonly<Config>): void;
  stop(): Promise<void>;
}

/** Wires the xDS layer: desired state → snapshots → ADS streams, with a ledger of ACKs/NACKs. */
export function createControlPlane(config: Readonly<Config>, opts: ControlPlaneOptions = {}): ControlPlane {
  const logger = opts.logger ?? silentLogger();
  const now = opts.now ?? Date.now;
  const versions = new VersionClock(now);
  if (opts.versionFloor) versions.observe(opts.versionFloor);
  const cache = new SnapshotCache();
  const ledger = new Ledger(now, {
    maxUnknownTypes: config.xds.ledgerMaxUnknownTypes,
    maxClosed: config.xds.ledgerClosedStreams,
    maxClosedBytes: config.xds.ledgerClosedBytes,
  });
  const topology = new Topology(config, {
    cache,
    versions,
    logger: logger.child({ component: 'topology' }),
    debounceMs: config.xds.debounceMs,
    now,
    endpoints: opts.endpoints,
    beforePublish: opts.beforePublish,
    contentVersions: opts.contentVersions,
  });
  const xds = new XdsServer({ config: config.xds, cache, ledger, logger: logger.child({ component: 'xds' }), extend: opts.extend, admitAds: opts.admitAds });
  let stopped = false;
  return {
    topology,
    ledger,
    cache,
    xds,
    async start() {
      // Serve only once the first full snapshot exists: never an empty set because nothing loaded yet.
      if (!cache.current()) topology.publishNow();
      return xds.start();
    },
    reload(next) {
      topology.replaceConfig(next);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      topology.stop();
      await xds.stop();
    },
  };
}
