// Original file: proto/healthmesh/v1/status.proto

import type { Endpoint as _healthmesh_v1_Endpoint, Endpoint__Output as _healthmesh_v1_Endpoint__Output } from '../../healthmesh/v1/Endpoint.js';

export interface ListEndpointsResponse {
  'endpoints'?: (_healthmesh_v1_Endpoint)[];
}

export interface ListEndpointsResponse__Output {
  'endpoints': (_healthmesh_v1_Endpoint__Output)[];
}
