// Original file: proto/healthmesh/v1/status.proto

import type { Endpoint as _healthmesh_v1_Endpoint, Endpoint__Output as _healthmesh_v1_Endpoint__Output } from '../../healthmesh/v1/Endpoint.js';
import type { EndpointRemoved as _healthmesh_v1_EndpointRemoved, EndpointRemoved__Output as _healthmesh_v1_EndpointRemoved__Output } from '../../healthmesh/v1/EndpointRemoved.js';
import type { Cluster as _healthmesh_v1_Cluster, Cluster__Output as _healthmesh_v1_Cluster__Output } from '../../healthmesh/v1/Cluster.js';
import type { Alert as _healthmesh_v1_Alert, Alert__Output as _healthmesh_v1_Alert__Output } from '../../healthmesh/v1/Alert.js';
import type { Synced as _healthmesh_v1_Synced, Synced__Output as _healthmesh_v1_Synced__Output } from '../../healthmesh/v1/Synced.js';
import type { PreviousState as _healthmesh_v1_PreviousState, PreviousState__Output as _healthmesh_v1_PreviousState__Output } from '../../healthmesh/v1/PreviousState.js';
import type { Long } from '@grpc/proto-loader';

export interface WatchEvent {
  /**
   * When it happened (for the initial state: when it was read).
   */
  'at_ms'?: (number | string | Long);
  'endpoint'?: (_healthmesh_v1_Endpoint | null);
  'endpoint_removed'?: (_healthmesh_v1_EndpointRemoved | null);
  'cluster'?: (_healthmesh_v1_Cluster | null);
  'alert'?: (_healthmesh_v1_Alert | null);
  'synced'?: (_healthmesh_v1_Synced | null);
  /**
   * On live `endpoint` events, when there was a state before the change.
   */
  'previous'?: (_healthmesh_v1_PreviousState | null);
  'event'?: "endpoint"|"endpoint_removed"|"cluster"|"alert"|"synced";
}

export interface WatchEvent__Output {
  /**
   * When it happened (for the initial state: when it was read).
   */
  'at_ms': (number);
  'endpoint'?: (_healthmesh_v1_Endpoint__Output | null);
  'endpoint_removed'?: (_healthmesh_v1_EndpointRemoved__Output | null);
  'cluster'?: (_healthmesh_v1_Cluster__Output | null);
  'alert'?: (_healthmesh_v1_Alert__Output | null);
  'synced'?: (_healthmesh_v1_Synced__Output | null);
  /**
   * On live `endpoint` events, when there was a state before the change.
   */
  'previous': (_healthmesh_v1_PreviousState__Output | null);
  'event'?: "endpoint"|"endpoint_removed"|"cluster"|"alert"|"synced";
}
