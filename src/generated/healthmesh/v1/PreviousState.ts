// Original file: proto/healthmesh/v1/status.proto

import type { HealthStatus as _healthmesh_v1_HealthStatus, HealthStatus__Output as _healthmesh_v1_HealthStatus__Output } from '../../healthmesh/v1/HealthStatus.js';
import type { CircuitState as _healthmesh_v1_CircuitState, CircuitState__Output as _healthmesh_v1_CircuitState__Output } from '../../healthmesh/v1/CircuitState.js';

/**
 * The published state of an endpoint before a change.
 */
export interface PreviousState {
  'status'?: (_healthmesh_v1_HealthStatus);
  'circuit'?: (_healthmesh_v1_CircuitState);
  'health'?: (_healthmesh_v1_HealthStatus);
  'weight'?: (number);
}

/**
 * The published state of an endpoint before a change.
 */
export interface PreviousState__Output {
  'status': (_healthmesh_v1_HealthStatus__Output);
  'circuit': (_healthmesh_v1_CircuitState__Output);
  'health': (_healthmesh_v1_HealthStatus__Output);
  'weight': (number);
}
