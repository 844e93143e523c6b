import type { Config } from '../config/schema.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SnapshotCache } from './cache.js';
import {
  clusterResource,
  endpointsResource,
  listenerResource,
  routeResource,
  type EndpointState,
  type EnvoyHealth,
  type ResourceSpec,
} from './resources.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import type { VersionClock } from './versions.js';

export interface EndpointPatch {
  address: string;
  port: number;
  weight?: number;
  health?: EnvoyHealth;
  zone?: string;
  region?: string;
  metadata?: Record<string, string | number | boolean>;
}

interface TrackedEndpoint extends EndpointState {
  /** `config` endpoints are replaced on reload; `runtime` ones (registered later) survive it. */
  source: 'config' | 'runtime';
}

export interface TopologyOptions {
  cache: SnapshotCache;
  versions: VersionClock;
  logger: Logger;
  debounceMs: number;
  now?: () => number;
}

const key = (address: string, port: number): string => `${address}:${port}`;

/**
 * The desired state served over xDS and the one in-process API that changes it.
 * Every change schedules one coalesced publish (debounced); a publish encodes only
 * what changed and is skipped entirely when nothing did.
 */
export class Topology {
  private config: Readonly<Config>;
  private readonly endpointsByCluster = new Map<string, Map<string, TrackedEndpoint>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private flushWaiters: Array<() => void> = [];

  constructor(
    config: Readonly<Config>,
    private readonly opts: TopologyOptions,
  ) {
    this.config = config;
    this.now = opts.now ?? Date.now;
    this.loadEndpoints(config);
  }

  /** Replace listeners, routes and clusters (SIGHUP). Runtime endpoints and health of kept endpoints survive. */
  replaceConfig(config: Readonly<Config>): void {
    this.config = config;
    this.loadEndpoints(config);
    this.schedule();
  }

  clusterNames(): string[] {
    return this.config.clusters.map((c) => c.name);
  }

  endpoints(cluster: string): EndpointState[] {
    return [...this.clusterEndpoints(cluster).values()].map(({ source: _source, ...e }) => e);
  }

  /** Add an endpoint or change it (weight, health, locality, metadata). */
  setEndpoint(cluster: string, patch: EndpointPatch): void {
    const endpoints = this.clusterEndpoints(cluster);
    validatePatch(patch);
    const k = key(patch.address, patch.port);
    const existing = endpoints.get(k);
    const next: TrackedEndpoint = {
      address: patch.address,
      port: patch.port,
      weight: patch.weight ?? existing?.weight ?? 1,
      health: patch.health ?? existing?.health ?? 'HEALTHY',
      zone: patch.zone ?? existing?.zone,
      region: patch.region ?? existing?.region,
      metadata: patch.metadata ?? existing?.metadata,
      source: existing?.source ?? 'runtime',
    };
    endpoints.set(k, next);
    this.schedule();
  }

  removeEndpoint(cluster: string, address: string, port: number): boolean {
    const removed = this.clusterEndpoints(cluster).delete(key(address, port));
    if (removed) this.schedule();
    return removed;
  }

  /** Build and publish now (cancelling any pending debounce). Returns the snapshot if anything changed. */
  publishNow(): Snapshot | undefined {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const previous = this.opts.cache.current();
    const next = buildSnapshot(previous, this.specs(), this.opts.versions.next(), this.now());
    if (next) {
      this.opts.cache.publish(next);
      this.opts.logger.debug({ version: next.version }, 'published snapshot');
    }
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
    return next;
  }

  /** Resolves after the pending debounced publish (if any) has happened. */
  flushed(): Promise<void> {
    if (!this.timer) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.publishNow(), this.opts.debounceMs);
    this.timer.unref?.();
  }

  private specs(): ResourceSpec[] {
    const specs: ResourceSpec[] = [];
    for (const c of this.config.clusters) {
      specs.push(clusterResource(c));
      specs.push(endpointsResource(c.name, this.clusterEndpoints(c.name).values()));
    }
    for (const l of this.config.listeners) specs.push(listenerResource(l));
    for (const r of this.config.routes) specs.push(routeResource(r));
    return specs;
  }

  private clusterEndpoints(cluster: string): Map<string, TrackedEndpoint> {
    const endpoints = this.endpointsByCluster.get(cluster);
    if (!endpoints) throw new NotFoundError(`cluster "${cluster}"`);
    return endpoints;
  }

  private loadEndpoints(config: Readonly<Config>): void {
    const previous = new Map(this.endpointsByCluster);
    this.endpointsByCluster.clear();
    for (const c of config.clusters) {
      const before = previous.get(c.name);
      const next = new Map<string, TrackedEndpoint>();
      for (const e of c.endpoints) {
        const kept = before?.get(key(e.address, e.port));
        next.set(key(e.address, e.port), {
          address: e.address,
          port: e.port,
          zone: e.zone,
          region: e.region,
          metadata: e.metadata,
          weight: kept?.weight ?? e.weight,
          health: kept?.health ?? e.health,
          source: 'config',
        });
      }
      for (const [k, e] of before ?? []) if (e.source === 'runtime' && !next.has(k)) next.set(k, e);
      this.endpointsByCluster.set(c.name, next);
    }
  }
}

function validatePatch(p: EndpointPatch): void {
  if (typeof p.address !== 'string' || p.address.length === 0 || p.address.length > 253) {
    throw new InvalidArgumentError('address', 'must be a non-empty host name or IP address');
  }
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new InvalidArgumentError('port', `must be 1..65535, got ${p.port}`);
  if (p.weight !== undefined && (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 100_000)) {
    throw new InvalidArgumentError('weight', `must be an integer 1..100000, got ${p.weight}`);
  }
}
