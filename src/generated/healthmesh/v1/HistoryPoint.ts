// Original file: proto/healthmesh/v1/status.proto

import type { HealthStatus as _healthmesh_v1_HealthStatus, HealthStatus__Output as _healthmesh_v1_HealthStatus__Output } from '../../healthmesh/v1/HealthStatus.js';
import type { CircuitState as _healthmesh_v1_CircuitState, CircuitState__Output as _healthmesh_v1_CircuitState__Output } from '../../healthmesh/v1/CircuitState.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One recorded point of an endpoint's health over time.
 */
export interface HistoryPoint {
  'at_ms'?: (number | string | Long);
  'score'?: (number | string);
  'status'?: (_healthmesh_v1_HealthStatus);
  'circuit'?: (_healthmesh_v1_CircuitState);
  'health'?: (_healthmesh_v1_HealthStatus);
  'weight'?: (number);
  /**
   * Mean latency of the recent probes, when actively checked.
   */
  'latency_ms'?: (number | string);
  /**
   * Error ratio (0..1) of real traffic from load reports, when known.
   */
  'error_rate'?: (number | string);
  'cpu_percent'?: (number | string);
  'memory_percent'?: (number | string);
  'disk_percent'?: (number | string);
  /**
   * Seconds since the node's last heartbeat, when an agent reports for it.
   */
  'heartbeat_age_s'?: (number | string);
  'reasons'?: (string)[];
  '_latency_ms'?: "latency_ms";
  '_error_rate'?: "error_rate";
  '_cpu_percent'?: "cpu_percent";
  '_memory_percent'?: "memory_percent";
  '_disk_percent'?: "disk_percent";
  '_heartbeat_age_s'?: "heartbeat_age_s";
}

/**
 * One recorded point of an endpoint's health over time.
 */
export interface HistoryPoint__Output {
  'at_ms': (number);
  'score': (number);
  'status': (_healthmesh_v1_HealthStatus__Output);
  'circuit': (_healthmesh_v1_CircuitState__Output);
  'health': (_healthmesh_v1_HealthStatus__Output);
  'weight': (number);
  /**
   * Mean latency of the recent probes, when actively checked.
   */
  'latency_ms'?: (number);
  /**
   * Error ratio (0..1) of real traffic from load reports, when known.
   */
  'error_rate'?: (number);
  'cpu_percent'?: (number);
  'memory_percent'?: (number);
  'disk_percent'?: (number);
  /**
   * Seconds since the node's last heartbeat, when an agent reports for it.
   */
  'heartbeat_age_s'?: (number);
  'reasons': (string)[];
  '_latency_ms'?: "latency_ms";
  '_error_rate'?: "error_rate";
  '_cpu_percent'?: "cpu_percent";
  '_memory_percent'?: "memory_percent";
  '_disk_percent'?: "disk_percent";
  '_heartbeat_age_s'?: "heartbeat_age_s";
}
