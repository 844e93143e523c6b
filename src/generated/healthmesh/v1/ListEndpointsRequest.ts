// Original file: proto/healthmesh/v1/status.proto

import type { HealthStatus as _healthmesh_v1_HealthStatus, HealthStatus__Output as _healthmesh_v1_HealthStatus__Output } from '../../healthmesh/v1/HealthStatus.js';

export interface ListEndpointsRequest {
  /**
   * Only this cluster (empty: all). An unknown cluster is NOT_FOUND.
   */
  'cluster'?: (string);
  /**
   * Only endpoints with this status (UNSPECIFIED: any; DRAINING is not a status, see `health`).
   */
  'status'?: (_healthmesh_v1_HealthStatus);
}

export interface ListEndpointsRequest__Output {
  /**
   * Only this cluster (empty: all). An unknown cluster is NOT_FOUND.
   */
  'cluster': (string);
  /**
   * Only endpoints with this status (UNSPECIFIED: any; DRAINING is not a status, see `health`).
   */
  'status': (_healthmesh_v1_HealthStatus__Output);
}
