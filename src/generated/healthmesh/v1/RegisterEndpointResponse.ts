// Original file: proto/healthmesh/v1/status.proto

import type { Endpoint as _healthmesh_v1_Endpoint, Endpoint__Output as _healthmesh_v1_Endpoint__Output } from '../../healthmesh/v1/Endpoint.js';

export interface RegisterEndpointResponse {
  'endpoint'?: (_healthmesh_v1_Endpoint | null);
  /**
   * False when the endpoint was already registered with these fields.
   */
  'created'?: (boolean);
}

export interface RegisterEndpointResponse__Output {
  'endpoint': (_healthmesh_v1_Endpoint__Output | null);
  /**
   * False when the endpoint was already registered with these fields.
   */
  'created': (boolean);
}
