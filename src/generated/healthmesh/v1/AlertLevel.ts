// Original file: proto/healthmesh/v1/status.proto

export const AlertLevel = {
  ALERT_LEVEL_UNSPECIFIED: 'ALERT_LEVEL_UNSPECIFIED',
  ALERT_LEVEL_INFO: 'ALERT_LEVEL_INFO',
  ALERT_LEVEL_WARNING: 'ALERT_LEVEL_WARNING',
  ALERT_LEVEL_CRITICAL: 'ALERT_LEVEL_CRITICAL',
} as const;

export type AlertLevel =
  | 'ALERT_LEVEL_UNSPECIFIED'
  | 0
  | 'ALERT_LEVEL_INFO'
  | 1
  | 'ALERT_LEVEL_WARNING'
  | 2
  | 'ALERT_LEVEL_CRITICAL'
  | 3

export type AlertLevel__Output = typeof AlertLevel[keyof typeof AlertLevel]
