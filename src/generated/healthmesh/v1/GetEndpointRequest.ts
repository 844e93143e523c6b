// Original file: proto/healthmesh/v1/status.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Names an endpoint by `key` or by `cluster` + `address` + `port` (not both).
 */
export interface GetEndpointRequest {
  /**
   * `cluster/address:port`, e.g. `demo/127.0.0.1:9101`.
   */
  'key'?: (string);
  'cluster'?: (string);
  'address'?: (string);
  'port'?: (number);
  /**
   * Newest points of history to return, at most 100000 (0: the server's default).
   */
  'history_limit'?: (number);
  /**
   * History between these times (0: unbounded).
   */
  'from_ms'?: (number | string | Long);
  'to_ms'?: (number | string | Long);
}

/**
 * Names an endpoint by `key` or by `cluster` + `address` + `port` (not both).
 */
export interface GetEndpointRequest__Output {
  /**
   * `cluster/address:port`, e.g. `demo/127.0.0.1:9101`.
   */
  'key': (string);
  'cluster': (string);
  'address': (string);
  'port': (number);
  /**
   * Newest points of history to return, at most 100000 (0: the server's default).
   */
  'history_limit': (number);
  /**
   * History between these times (0: unbounded).
   */
  'from_ms': (number);
  'to_ms': (number);
}
