import type { ClusterConfig, ListenerConfig, RouteConfig } from '../config/schema.js';
import type { Cluster } from '../generated/envoy/config/cluster/v3/Cluster.js';
import type { OutlierDetection } from '../generated/envoy/config/cluster/v3/OutlierDetection.js';
import type { ConfigSource } from '../generated/envoy/config/core/v3/ConfigSource.js';
import type { ClusterLoadAssignment } from '../generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';
import type { LbEndpoint } from '../generated/envoy/config/endpoint/v3/LbEndpoint.js';
import type { LocalityLbEndpoints } from '../generated/envoy/config/endpoint/v3/LocalityLbEndpoints.js';
import type { Listener } from '../generated/envoy/config/listener/v3/Listener.js';
import type { RouteConfiguration } from '../generated/envoy/config/route/v3/RouteConfiguration.js';
import type { HttpConnectionManager } from '../generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';
import type { HttpProtocolOptions } from '../generated/envoy/extensions/upstreams/http/v3/HttpProtocolOptions.js';
import type { Duration } from '../generated/google/protobuf/Duration.js';
import type { Struct } from '../generated/google/protobuf/Struct.js';
import { TYPE } from './protos.js';
import { packAny } from './protos.js';

/** Envoy's `HealthStatus` names, as carried on `LbEndpoint.health_status`. */
export type EnvoyHealth = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'DEGRADED';

export interface EndpointState {
  address: string;
  port: number;
  zone?: string | undefined;
  region?: string | undefined;
  /** Load-balancing weight published to Envoy, 1..100000. */
  weight: number;
  health: EnvoyHealth;
  metadata?: Readonly<Record<string, string | number | boolean>> | undefined;
}

/** The messages the xDS layer builds (the generated input types, src/generated): `{}` for a reused entry. */
export type ResourceMessage = Listener | RouteConfiguration | Cluster | ClusterLoadAssignment | Record<string, never>;

/** A resource ready to encode: its name, the message and what it references (for make-before-break). */
export interface ResourceSpec<M extends ResourceMessage = ResourceMessage> {
  name: string;
  typeUrl: string;
  message: M;
  refs: readonly string[];
  /** Unchanged since the previous snapshot, which holds it: reuse its encoded entry (message may be empty). */
  reuse?: boolean | undefined;
  /** EDS only: the shape served to weight-blind proxyless gRPC clients (Snapshot.proxylessEndpoints). */
  variant?: 'proxyless' | undefined;
}

const adsSource: ConfigSource = { ads: {}, resource_api_version: 'V3' };

function hcm(routeConfigName: string, statPrefix: string): { type_url: string; value: Uint8Array } {
  const hcm: HttpConnectionManager = {
    stat_prefix: statPrefix,
    codec_type: 'AUTO',
    rds: { route_config_name: routeConfigName, config_source: adsSource },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: packAny(TYPE.router, {}) }],
  };
  return packAny(TYPE.hcm, hcm);
}

export function listenerResource(l: ListenerConfig): ResourceSpec<Listener> {
  const statPrefix = l.statPrefix ?? l.name;
  const message: Listener =
    l.kind === 'api'
      ? { name: l.name, api_listener: { api_listener: hcm(l.routeConfig, statPrefix) } }
      : {
          name: l.name,
          address: { socket_address: { address: l.address, port_value: l.port } },
          filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(l.routeConfig, statPrefix) }] }],
        };
  return { name: l.name, typeUrl: TYPE.listener, message, refs: [l.routeConfig] };
}

export function routeResource(r: RouteConfig): ResourceSpec<RouteConfiguration> {
  const clusters = new Set<string>();
  const message: RouteConfiguration = {
    name: r.name,
    virtual_hosts: r.virtualHosts.map((vh) => ({
      name: vh.name,
      domains: [...vh.domains],
      routes: vh.routes.map((rt) => {
        clusters.add(rt.cluster);
        return {
          match: { prefix: rt.prefix },
          route: { cluster: rt.cluster, ...(rt.timeoutMs === undefined ? {} : { timeout: duration(rt.timeoutMs) }) },
        };
      }),
    })),
  };
  return { name: r.name, typeUrl: TYPE.route, message, refs: [...clusters] };
}

/** Cluster-wide defaults clusterResource needs from the rest of the config. */
export interface ClusterDefaults {
  /** The guard's cap (health.guard.maxEjectedPercent): Envoy's outlier detection ejects no more than healthmesh would. */
  maxEjectionPercent: number;
}

/** CDS `outlier_detection` from `clusters[].outlierDetection` (undefined when not configured). */
export function outlierDetection(c: ClusterConfig, defaults: ClusterDefaults): OutlierDetection | undefined {
  const o = c.outlierDetection;
  if (!o) return undefined;
  const u32 = (value: number): { value: number } => ({ value: Math.round(value) });
  return {
    consecutive_5xx: u32(o.consecutive5xx),
    enforcing_consecutive_5xx: u32(100),
    interval: duration(o.intervalMs),
    base_ejection_time: duration(o.baseEjectionTimeMs),
    max_ejection_time: duration(Math.max(o.baseEjectionTimeMs, 300_000)),
    max_ejection_percent: u32(o.maxEjectionPercent ?? defaults.maxEjectionPercent),
    // Envoy enforces success-rate ejection by default: only when configured here.
    enforcing_success_rate: u32(o.successRate ? 100 : 0),
    ...(o.successRate
      ? {
          success_rate_minimum_hosts: u32(o.successRate.minimumHosts),
          success_rate_request_volume: u32(o.successRate.requestVolume),
          success_rate_stdev_factor: u32(o.successRate.stdevFactor),
        }
      : {}),
    enforcing_failure_percentage: u32(o.failurePercentage ? 100 : 0),
    ...(o.failurePercentage
      ? {
          failure_percentage_threshold: u32(o.failurePercentage.threshold),
          failure_percentage_minimum_hosts: u32(o.failurePercentage.minimumHosts),
          failure_percentage_request_volume: u32(o.failurePercentage.requestVolume),
        }
      : {}),
    // Local-origin (connection) failures count as 5xx, so a refused connection ejects as fast.
    split_external_local_origin_errors: false,
  };
}

export function clusterResource(c: ClusterConfig, defaults: ClusterDefaults = { maxEjectionPercent: 50 }): ResourceSpec<Cluster> {
  const message: Cluster = {
    name: c.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsSource },
    connect_timeout: duration(c.connectTimeoutMs),
    lb_policy: c.lbPolicy,
    common_lb_config: { healthy_panic_threshold: { value: c.panicThresholdPercent } },
  };
  const outlier = outlierDetection(c, defaults);
  if (outlier) message.outlier_detection = outlier;
  if (c.http2) {
    const http2: HttpProtocolOptions = { explicit_http_config: { http2_protocol_options: {} } };
    message.typed_extension_protocol_options = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': packAny(TYPE.httpProtocolOptions, http2) };
  }
  return { name: c.name, typeUrl: TYPE.cluster, message, refs: [c.name] }; // its EDS assignment
}

/** The cluster's endpoints grouped by locality, carrying health and weight. */
export function endpointsResource(clusterName: string, endpoints: Iterable<EndpointState>): ResourceSpec<ClusterLoadAssignment> {
  const byLocality = new Map<string, LocalityLbEndpoints & { lb_endpoints: LbEndpoint[]; load_balancing_weight: { value: number } }>();
  const sorted = [...endpoints].sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
  for (const e of sorted) {
    const key = `${e.region ?? ''}/${e.zone ?? ''}`;
    let group = byLocality.get(key);
    if (!group) {
      const locality: Record<string, string> = {};
      if (e.region) locality.region = e.region;
      if (e.zone) locality.zone = e.zone;
      group = { locality, lb_endpoints: [], load_balancing_weight: { value: 0 } };
      byLocality.set(key, group);
    }
    if (e.health !== 'UNHEALTHY' && e.health !== 'DRAINING') group.load_balancing_weight.value += e.weight;
    group.lb_endpoints.push({
      endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
      health_status: e.health,
      load_balancing_weight: { value: e.weight },
      ...(e.metadata ? { metadata: { filter_metadata: { healthmesh: toStruct(e.metadata) } } } : {}),
    });
  }
  // gRPC clients ignore a locality without weight; Envoy uses it only with locality-weighted LB.
  // Weighting a locality by its serving endpoints keeps per-endpoint shares fair for both.
  for (const g of byLocality.values()) g.load_balancing_weight.value = Math.max(1, g.load_balancing_weight.value);
  const message: ClusterLoadAssignment = { cluster_name: clusterName, endpoints: [...byLocality.values()] };
  return { name: clusterName, typeUrl: TYPE.endpoint, message, refs: [clusterName] };
}

/**
 * EDS for proxyless gRPC clients whose LB policy ignores endpoint weights (grpc-js-xds and grpc-go under
 * the CDS `lb_policy` enum build weighted-locality round robin: endpoint weights are ignored, locality
 * weights are honoured). Each endpoint goes into a locality of its own (its region and zone, with
 * `sub_zone` = `address:port`) weighted by its endpoint weight, so weights, degradation and the
 * slow-start ramp reach these clients as locality weights. Same health and endpoint weights as
 * `endpointsResource`: Envoy must keep receiving that one. The snapshot carries both shapes; each ADS
 * stream picks one from its node's `user_agent_name` (`isWeightBlindClient`), see README "Proxyless gRPC clients".
 */
export function proxylessEndpointsResource(clusterName: string, endpoints: Iterable<EndpointState>): ResourceSpec<ClusterLoadAssignment> {
  const sorted = [...endpoints].sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
  const localities = sorted.map((e): LocalityLbEndpoints => {
    const locality: Record<string, string> = { sub_zone: `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` };
    if (e.region) locality.region = e.region;
    if (e.zone) locality.zone = e.zone;
    const serving = e.health !== 'UNHEALTHY' && e.health !== 'DRAINING';
    return {
      locality,
      // A locality of weight 0 is dropped by gRPC clients; a non-serving one has no READY endpoint and gets nothing anyway.
      load_balancing_weight: { value: serving ? Math.max(1, e.weight) : 1 },
      lb_endpoints: [
        {
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: e.health,
          load_balancing_weight: { value: e.weight },
          ...(e.metadata ? { metadata: { filter_metadata: { healthmesh: toStruct(e.metadata) } } } : {}),
        },
      ],
    };
  });
  return {
    name: clusterName,
    typeUrl: TYPE.endpoint,
    message: { cluster_name: clusterName, endpoints: localities },
    refs: [clusterName],
    variant: 'proxyless',
  };
}

/**
 * Node `user_agent_name`s of xDS clients whose LB ignores endpoint weights under the CDS `lb_policy` enum
 * (they get `proxylessEndpointsResource`), as each client hard-codes it: grpc-js-xds ("gRPC Node Pure JS",
 * xds-client.js), grpc-go ("gRPC Go", xds bootstrap), grpc-java ("gRPC Java", BuildVersion.getUserAgent).
 * gRPC C-core (C++, Python, Ruby, PHP...) sends "gRPC C-core <platform>[suffix]": matched by prefix.
 * Envoy sends "envoy".
 */
export const WEIGHT_BLIND_USER_AGENTS: ReadonlySet<string> = new Set(['gRPC Node Pure JS', 'gRPC Go', 'gRPC Java']);
const WEIGHT_BLIND_PREFIXES: readonly string[] = ['gRPC C-core'];

/** Does a node with this `user_agent_name` need the proxyless EDS shape? */
export function isWeightBlindClient(userAgentName: string | undefined): boolean {
  if (!userAgentName) return false;
  return WEIGHT_BLIND_USER_AGENTS.has(userAgentName) || WEIGHT_BLIND_PREFIXES.some((p) => userAgentName.startsWith(p));
}

function duration(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

function toStruct(obj: Readonly<Record<string, string | number | boolean>>): Struct {
  const fields: NonNullable<Struct['fields']> = {};
  for (const [k, v] of Object.entries(obj).sort(([a], [b]) => a.localeCompare(b))) {
    fields[k] = typeof v === 'string' ? { stringValue: v } : typeof v === 'number' ? { numberValue: v } : { boolValue: v };
  }
  return { fields };
}
