// Original file: proto/healthmesh/v1/status.proto

import type { Long } from '@grpc/proto-loader';

export interface Nack {
  /**
   * The version that was rejected (the proxy keeps its last good one).
   */
  'version'?: (string);
  /**
   * The proxy's error_detail message.
   */
  'message'?: (string);
  /**
   * The proxy's error_detail code.
   */
  'code'?: (number);
  'at_ms'?: (number | string | Long);
  /**
   * The resources in the rejected response.
   */
  'resources'?: (string)[];
}

export interface Nack__Output {
  /**
   * The version that was rejected (the proxy keeps its last good one).
   */
  'version': (string);
  /**
   * The proxy's error_detail message.
   */
  'message': (string);
  /**
   * The proxy's error_detail code.
   */
  'code': (number);
  'at_ms': (number);
  /**
   * The resources in the rejected response.
   */
  'resources': (string)[];
}
