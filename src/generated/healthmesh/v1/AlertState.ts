// Original file: proto/healthmesh/v1/status.proto

export const AlertState = {
  ALERT_STATE_UNSPECIFIED: 'ALERT_STATE_UNSPECIFIED',
  ALERT_STATE_FIRING: 'ALERT_STATE_FIRING',
  ALERT_STATE_RESOLVED: 'ALERT_STATE_RESOLVED',
} as const;

export type AlertState =
  | 'ALERT_STATE_UNSPECIFIED'
  | 0
  | 'ALERT_STATE_FIRING'
  | 1
  | 'ALERT_STATE_RESOLVED'
  | 2

export type AlertState__Output = typeof AlertState[keyof typeof AlertState]
