import type { Config } from './config/schema.js';
import { silentLogger, type Logger } from './log.js';
import { GrpcHost } from './wiring/grpc-host.js';
import { SnapshotCache } from './xds/cache.js';
import type { EndpointSource } from './xds/endpoint-source.js';
import { Ledger } from './xds/ledger.js';
import type { Snapshot } from './xds/snapshot.js';
import { AdsService, type AdsServiceOptions } from './xds/server.js';
import { Topology } from './xds/topology.js';
import { VersionClock } from './xds/versions.js';

export interface ControlPlaneOptions {
  logger?: Logger;
  now?: () => number;
  /** Lowest version to issue (the last one persisted before a restart). */
  versionFloor?: string;
  /**
   * Serve ADS on this gRPC host, which its owner starts and stops (the composition root's, shared with
   * LRS, agents and status). Absent: the control plane makes its own on `config.xds.listen`, and
   * start()/stop() listen and shut it down; more services can be added with `grpc.serve(...)` before start().
   */
  grpc?: GrpcHost;
  /** EDS: membership × assignment (absent: endpoints as configured, settable by hand). */
  endpoints?: EndpointSource;
  /** Runs with each new snapshot before any stream sees it (write-ahead persistence). */
  beforePublish?: (next: Snapshot) => void;
  /** Admission of ADS streams (proxy token when auth.requireProxyToken). */
  admitAds?: AdsServiceOptions['admitAds'];
  /** SotW type versions derived from content instead of the clock (replicated mode). */
  contentVersions?: boolean;
  /** How long a fan-out writes before the event loop turns (default 1 ms; Infinity: all streams at once). */
  fanOutSliceMs?: number;
}

export interface ControlPlane {
  readonly topology: Topology;
  readonly ledger: Ledger;
  readonly cache: SnapshotCache;
  readonly xds: AdsService;
  /** The gRPC host ADS is registered on (its own, or the one given in the options). */
  readonly grpc: GrpcHost;
  /** Publishes the first snapshot if none exists yet; listens when the host is its own. */
  start(): Promise<{ port: number }>;
  reload(config: Readonly<Config>): void;
  /** Stops publishing and ends the ADS streams; shuts the host down when it is its own. Idempotent. */
  stop(): Promise<void>;
}

/** Wires the xDS layer: desired state → snapshots → ADS streams, with a ledger of ACKs/NACKs. */
export function createControlPlane(config: Readonly<Config>, opts: ControlPlaneOptions = {}): ControlPlane {
  const logger = opts.logger ?? silentLogger();
  const now = opts.now ?? Date.now;
  const versions = new VersionClock(now);
  if (opts.versionFloor) versions.observe(opts.versionFloor);
  const cache = new SnapshotCache(opts.fanOutSliceMs);
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
  const xdsLogger = logger.child({ component: 'xds' });
  const xds = new AdsService({ config: config.xds, cache, callbacks: ledger, logger: xdsLogger, admitAds: opts.admitAds });
  const owned = opts.grpc === undefined;
  const grpc = opts.grpc ?? new GrpcHost({ listen: config.xds.listen, config: config.xds, logger: xdsLogger, label: 'xDS', portName: 'the xDS/gRPC port' });
  grpc.serve(xds);
  let stopped = false;
  return {
    topology,
    ledger,
    cache,
    xds,
    grpc,
    async start() {
      // Serve only once the first full snapshot exists: never an empty set because nothing loaded yet.
      if (!cache.current()) topology.publishNow();
      return { port: owned ? await grpc.start() : grpc.port };
    },
    reload(next) {
      topology.replaceConfig(next);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      topology.stop();
      xds.stop();
      if (owned) await grpc.stop();
    },
  };
}
