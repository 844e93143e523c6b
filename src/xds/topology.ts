import type { Config } from '../config/schema.js';
import { Membership } from '../membership/registry.js';
import type { Logger } from '../log.js';
import type { SnapshotCache } from './cache.js';
export type { EndpointPatch } from './endpoint-source.js';
import { ManualEndpoints, type EndpointPatch, type EndpointSource } from './endpoint-source.js';
import {
  clusterResource,
  endpointsResource,
  listenerResource,
  proxylessEndpointsResource,
  routeResource,
  type EndpointState,
  type ResourceSpec,
} from './resources.js';
import { TYPE } from './protos.js';
import { buildSnapshot, inconsistencies, type Snapshot } from './snapshot.js';
import type { VersionClock } from './versions.js';

export interface TopologyOptions {
  cache: SnapshotCache;
  versions: VersionClock;
  logger: Logger;
  debounceMs: number;
  now?: () => number;
  /** EDS: membership × assignment. Absent: a manual table over the config (no health engine). */
  endpoints?: EndpointSource;
  /** Runs with each new snapshot before any stream sees it (write-ahead persistence of what it publishes). */
  beforePublish?: (next: Snapshot) => void;
  /** Type versions derived from content (replicas serve identical versions for identical resources). */
  contentVersions?: boolean;
}

/**
 * What is served over xDS: listeners, routes and clusters from the config, endpoints from an
 * EndpointSource (membership × assignment). Every change schedules one coalesced publish
 * (debounced); a publish encodes only what changed and is skipped entirely when nothing did.
 */
export class Topology {
  private config: Readonly<Config>;
  private readonly source: EndpointSource;
  /** Present when endpoints are set by hand (no health engine). */
  readonly manual: ManualEndpoints | undefined;
  /** The pending publish (a timer, or an immediate when no wait is needed). */
  private timer: { cancel(): void } | undefined;
  /** Resources to rebuild at the next publish: everything (config changed), or these clusters' EDS. */
  private allDirty = true;
  private readonly dirtyEds = new Set<string>();
  private lastBuildMs = 0;
  private lastPublishAt = -Infinity;
  private readonly now: () => number;
  private flushWaiters: Array<() => void> = [];

  constructor(
    config: Readonly<Config>,
    private readonly opts: TopologyOptions,
  ) {
    this.config = config;
    this.now = opts.now ?? Date.now;
    if (opts.endpoints) this.source = opts.endpoints;
    else {
      this.manual = new ManualEndpoints(new Membership(config));
      this.source = this.manual;
    }
  }

  /** Replace listeners, routes and clusters (SIGHUP). */
  replaceConfig(config: Readonly<Config>): void {
    this.config = config;
    this.manual?.membership.replaceConfig(config);
    this.allDirty = true;
    this.schedule();
  }

  clusterNames(): string[] {
    return this.config.clusters.map((c) => c.name);
  }

  /** The endpoints EDS would carry for `cluster` now. */
  endpoints(cluster: string): EndpointState[] {
    return this.source.endpoints(cluster);
  }

  /** Manual mode only: add an endpoint or change it (weight, health, locality, metadata). */
  setEndpoint(cluster: string, patch: EndpointPatch): void {
    this.requireManual().set(cluster, patch);
    this.changed(cluster);
  }

  /** Manual mode only. */
  removeEndpoint(cluster: string, address: string, port: number): boolean {
    const removed = this.requireManual().remove(cluster, address, port);
    if (removed) this.changed(cluster);
    return removed;
  }

  /** Something EDS reads changed (an assignment, a member) for `cluster` (absent: anything): publish soon. */
  changed(cluster?: string): void {
    if (cluster === undefined) this.allDirty = true;
    else this.dirtyEds.add(cluster);
    this.schedule();
  }

  /** Build and publish now (cancelling any pending debounce). Returns the snapshot if anything changed. */
  publishNow(): Snapshot | undefined {
    this.timer?.cancel();
    this.timer = undefined;
    const previous = this.opts.cache.current();
    const began = performance.now();
    const specs = this.specs(previous);
    this.allDirty = false;
    this.dirtyEds.clear();
    const next = buildSnapshot(previous, specs, this.opts.versions.next(), this.now(), { contentVersions: this.opts.contentVersions ?? false });
    // The first build pays for compiling the protobuf codecs: it says nothing about the next ones.
    if (previous) this.lastBuildMs = performance.now() - began;
    this.lastPublishAt = performance.now();
    const problems = next ? inconsistencies(next) : [];
    if (next && problems.length > 0) {
      // Keep serving the last good snapshot; rebuild everything on the next change.
      this.allDirty = true;
      this.opts.logger.error({ version: next.version, problems: problems.slice(0, 10), count: problems.length }, 'not publishing an inconsistent snapshot');
      this.resolveFlushWaiters();
      return undefined;
    }
    if (next) {
      this.opts.beforePublish?.(next);
      this.opts.cache.publish(next);
      this.opts.logger.debug({ version: next.version }, 'published snapshot');
    }
    this.resolveFlushWaiters();
    return next;
  }

  private resolveFlushWaiters(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves after the pending debounced publish (if any) has happened. */
  flushed(): Promise<void> {
    if (!this.timer) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.resolveFlushWaiters();
  }

  /**
   * Leading edge with a trailing window: a change after a quiet period is published at once (on the
   * next turn of the event loop, so changes made together go together); changes within the window
   * after a publish are coalesced into one publish at its end. The window is `debounceMs`, or twice
   * the last build time when that is longer, so large snapshots cannot take the whole CPU.
   */
  private schedule(): void {
    if (this.timer) return;
    const window = Math.max(this.opts.debounceMs, 2 * this.lastBuildMs);
    const wait = Math.max(0, this.lastPublishAt + window - performance.now());
    // setTimeout waits at least 1 ms even for 0: a lone change goes on the next turn of the loop instead.
    if (wait <= 0) {
      const immediate = setImmediate(() => this.publishNow());
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(() => this.publishNow(), wait);
      timeout.unref?.();
      this.timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  /** Every resource; those unchanged since `previous` (config not reloaded, cluster's EDS clean) are reused, not rebuilt. */
  private specs(previous: Snapshot | undefined): ResourceSpec[] {
    const specs: ResourceSpec[] = [];
    const has = (typeUrl: string, name: string): boolean => previous?.types[typeUrl as keyof Snapshot['types']]?.resources.has(name) ?? false;
    const reuse = (typeUrl: string, name: string): ResourceSpec => ({ name, typeUrl, message: {}, refs: [], reuse: true });
    const clean = !this.allDirty && previous !== undefined;
    for (const c of this.config.clusters) {
      specs.push(
        clean && has(TYPE.cluster, c.name)
          ? reuse(TYPE.cluster, c.name)
          : clusterResource(c, { maxEjectionPercent: this.config.health.guard.maxEjectedPercent }),
      );
      // EDS in both shapes (Envoy's, and weight-blind proxyless gRPC clients'), each encoded once per version.
      if (clean && !this.dirtyEds.has(c.name) && has(TYPE.endpoint, c.name) && (previous?.proxylessEndpoints?.resources.has(c.name) ?? false)) {
        specs.push(reuse(TYPE.endpoint, c.name), { ...reuse(TYPE.endpoint, c.name), variant: 'proxyless' });
      } else {
        const endpoints = this.source.endpoints(c.name);
        specs.push(endpointsResource(c.name, endpoints), proxylessEndpointsResource(c.name, endpoints));
      }
    }
    for (const l of this.config.listeners) specs.push(clean && has(TYPE.listener, l.name) ? reuse(TYPE.listener, l.name) : listenerResource(l));
    for (const r of this.config.routes) specs.push(clean && has(TYPE.route, r.name) ? reuse(TYPE.route, r.name) : routeResource(r));
    return specs;
  }

  private requireManual(): ManualEndpoints {
    if (!this.manual) throw new Error('endpoints are assigned by the health engine; change membership instead');
    return this.manual;
  }
}
