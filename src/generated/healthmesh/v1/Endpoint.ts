// Original file: proto/healthmesh/v1/status.proto

import type { HealthStatus as _healthmesh_v1_HealthStatus, HealthStatus__Output as _healthmesh_v1_HealthStatus__Output } from '../../healthmesh/v1/HealthStatus.js';
import type { CircuitState as _healthmesh_v1_CircuitState, CircuitState__Output as _healthmesh_v1_CircuitState__Output } from '../../healthmesh/v1/CircuitState.js';
import type { EndpointSource as _healthmesh_v1_EndpointSource, EndpointSource__Output as _healthmesh_v1_EndpointSource__Output } from '../../healthmesh/v1/EndpointSource.js';
import type { Long } from '@grpc/proto-loader';

export interface Endpoint {
  /**
   * `cluster/address:port`
   */
  'key'?: (string);
  'cluster'?: (string);
  'address'?: (string);
  'port'?: (number);
  'zone'?: (string);
  /**
   * 0..100, fused from probes, real traffic and host usage.
   */
  'score'?: (number | string);
  /**
   * The health engine's verdict.
   */
  'status'?: (_healthmesh_v1_HealthStatus);
  'circuit'?: (_healthmesh_v1_CircuitState);
  /**
   * What proxies are told (health_status of the LbEndpoint); DRAINING when drained.
   */
  'health'?: (_healthmesh_v1_HealthStatus);
  /**
   * Published load_balancing_weight (ramps up after recovery), and the configured weight.
   */
  'weight'?: (number);
  'target_weight'?: (number);
  /**
   * weight / target_weight, 0..1.
   */
  'weight_fraction'?: (number | string);
  /**
   * Why it is not perfectly healthy, worst first ("p99 1.8s > 500ms").
   */
  'reasons'?: (string)[];
  'flapping'?: (boolean);
  /**
   * Kept in rotation by the cluster guard although failing.
   */
  'guarded'?: (boolean);
  /**
   * Drained by an operator: published UNHEALTHY regardless of its health.
   */
  'drained'?: (boolean);
  'source'?: (_healthmesh_v1_EndpointSource);
  /**
   * When its published health or weight last changed.
   */
  'changed_at_ms'?: (number | string | Long);
  /**
   * Expected share (0..1) of its cluster's requests through Envoy, from healthmesh's model of Envoy's
   * load balancing (priority health x overprovisioning 1.4, DEGRADED spillover, panic, weights).
   */
  'expected_share'?: (number | string);
}

export interface Endpoint__Output {
  /**
   * `cluster/address:port`
   */
  'key': (string);
  'cluster': (string);
  'address': (string);
  'port': (number);
  'zone': (string);
  /**
   * 0..100, fused from probes, real traffic and host usage.
   */
  'score': (number);
  /**
   * The health engine's verdict.
   */
  'status': (_healthmesh_v1_HealthStatus__Output);
  'circuit': (_healthmesh_v1_CircuitState__Output);
  /**
   * What proxies are told (health_status of the LbEndpoint); DRAINING when drained.
   */
  'health': (_healthmesh_v1_HealthStatus__Output);
  /**
   * Published load_balancing_weight (ramps up after recovery), and the configured weight.
   */
  'weight': (number);
  'target_weight': (number);
  /**
   * weight / target_weight, 0..1.
   */
  'weight_fraction': (number);
  /**
   * Why it is not perfectly healthy, worst first ("p99 1.8s > 500ms").
   */
  'reasons': (string)[];
  'flapping': (boolean);
  /**
   * Kept in rotation by the cluster guard although failing.
   */
  'guarded': (boolean);
  /**
   * Drained by an operator: published UNHEALTHY regardless of its health.
   */
  'drained': (boolean);
  'source': (_healthmesh_v1_EndpointSource__Output);
  /**
   * When its published health or weight last changed.
   */
  'changed_at_ms': (number);
  /**
   * Expected share (0..1) of its cluster's requests through Envoy, from healthmesh's model of Envoy's
   * load balancing (priority health x overprovisioning 1.4, DEGRADED spillover, panic, weights).
   */
  'expected_share': (number);
}
