// Original file: proto/healthmesh/v1/status.proto

import type { Endpoint as _healthmesh_v1_Endpoint, Endpoint__Output as _healthmesh_v1_Endpoint__Output } from '../../healthmesh/v1/Endpoint.js';
import type { HistoryPoint as _healthmesh_v1_HistoryPoint, HistoryPoint__Output as _healthmesh_v1_HistoryPoint__Output } from '../../healthmesh/v1/HistoryPoint.js';

export interface GetEndpointResponse {
  'endpoint'?: (_healthmesh_v1_Endpoint | null);
  /**
   * Oldest first.
   */
  'history'?: (_healthmesh_v1_HistoryPoint)[];
}

export interface GetEndpointResponse__Output {
  'endpoint': (_healthmesh_v1_Endpoint__Output | null);
  /**
   * Oldest first.
   */
  'history': (_healthmesh_v1_HistoryPoint__Output)[];
}
