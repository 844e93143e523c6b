// Original file: proto/healthmesh/v1/status.proto

export const HealthStatus = {
  HEALTH_STATUS_UNSPECIFIED: 'HEALTH_STATUS_UNSPECIFIED',
  HEALTH_STATUS_HEALTHY: 'HEALTH_STATUS_HEALTHY',
  HEALTH_STATUS_DEGRADED: 'HEALTH_STATUS_DEGRADED',
  HEALTH_STATUS_UNHEALTHY: 'HEALTH_STATUS_UNHEALTHY',
  /**
   * Only in `health` (what proxies are told): an operator took the endpoint out of rotation.
   */
  HEALTH_STATUS_DRAINING: 'HEALTH_STATUS_DRAINING',
} as const;

export type HealthStatus =
  | 'HEALTH_STATUS_UNSPECIFIED'
  | 0
  | 'HEALTH_STATUS_HEALTHY'
  | 1
  | 'HEALTH_STATUS_DEGRADED'
  | 2
  | 'HEALTH_STATUS_UNHEALTHY'
  | 3
  /**
   * Only in `health` (what proxies are told): an operator took the endpoint out of rotation.
   */
  | 'HEALTH_STATUS_DRAINING'
  | 4

export type HealthStatus__Output = typeof HealthStatus[keyof typeof HealthStatus]
