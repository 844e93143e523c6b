// Original file: proto/healthmesh/v1/status.proto

import type { AlertState as _healthmesh_v1_AlertState, AlertState__Output as _healthmesh_v1_AlertState__Output } from '../../healthmesh/v1/AlertState.js';
import type { AlertLevel as _healthmesh_v1_AlertLevel, AlertLevel__Output as _healthmesh_v1_AlertLevel__Output } from '../../healthmesh/v1/AlertLevel.js';
import type { Long } from '@grpc/proto-loader';

export interface ListAlertsRequest {
  /**
   * UNSPECIFIED: any.
   */
  'state'?: (_healthmesh_v1_AlertState);
  'level'?: (_healthmesh_v1_AlertLevel);
  /**
   * Alerts fired in this window (0: unbounded).
   */
  'from_ms'?: (number | string | Long);
  'to_ms'?: (number | string | Long);
}

export interface ListAlertsRequest__Output {
  /**
   * UNSPECIFIED: any.
   */
  'state': (_healthmesh_v1_AlertState__Output);
  'level': (_healthmesh_v1_AlertLevel__Output);
  /**
   * Alerts fired in this window (0: unbounded).
   */
  'from_ms': (number);
  'to_ms': (number);
}
