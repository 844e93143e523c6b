// Original file: proto/healthmesh/v1/status.proto

import type { XdsProtocol as _healthmesh_v1_XdsProtocol, XdsProtocol__Output as _healthmesh_v1_XdsProtocol__Output } from '../../healthmesh/v1/XdsProtocol.js';
import type { TypeLedger as _healthmesh_v1_TypeLedger, TypeLedger__Output as _healthmesh_v1_TypeLedger__Output } from '../../healthmesh/v1/TypeLedger.js';
import type { Long } from '@grpc/proto-loader';

export interface Proxy {
  'stream_id'?: (string);
  'node_id'?: (string);
  'node_cluster'?: (string);
  'user_agent'?: (string);
  'protocol'?: (_healthmesh_v1_XdsProtocol);
  /**
   * The proxy's address as the server saw it.
   */
  'peer'?: (string);
  'connected_at_ms'?: (number | string | Long);
  /**
   * 0 while connected.
   */
  'closed_at_ms'?: (number | string | Long);
  /**
   * In push order (listeners, routes, clusters, endpoints), then any other type by URL.
   */
  'types'?: (_healthmesh_v1_TypeLedger)[];
  /**
   * Types it asked for that healthmesh does not serve.
   */
  'unknown_types'?: (string)[];
}

export interface Proxy__Output {
  'stream_id': (string);
  'node_id': (string);
  'node_cluster': (string);
  'user_agent': (string);
  'protocol': (_healthmesh_v1_XdsProtocol__Output);
  /**
   * The proxy's address as the server saw it.
   */
  'peer': (string);
  'connected_at_ms': (number);
  /**
   * 0 while connected.
   */
  'closed_at_ms': (number);
  /**
   * In push order (listeners, routes, clusters, endpoints), then any other type by URL.
   */
  'types': (_healthmesh_v1_TypeLedger__Output)[];
  /**
   * Types it asked for that healthmesh does not serve.
   */
  'unknown_types': (string)[];
}
