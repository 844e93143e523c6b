// Original file: proto/healthmesh/v1/status.proto

import type { Alert as _healthmesh_v1_Alert, Alert__Output as _healthmesh_v1_Alert__Output } from '../../healthmesh/v1/Alert.js';

export interface ListAlertsResponse {
  'alerts'?: (_healthmesh_v1_Alert)[];
}

export interface ListAlertsResponse__Output {
  'alerts': (_healthmesh_v1_Alert__Output)[];
}
