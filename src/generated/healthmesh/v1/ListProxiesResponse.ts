// Original file: proto/healthmesh/v1/status.proto

import type { Proxy as _healthmesh_v1_Proxy, Proxy__Output as _healthmesh_v1_Proxy__Output } from '../../healthmesh/v1/Proxy.js';

export interface ListProxiesResponse {
  'proxies'?: (_healthmesh_v1_Proxy)[];
}

export interface ListProxiesResponse__Output {
  'proxies': (_healthmesh_v1_Proxy__Output)[];
}
