// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/type/v3/range.proto

import type { Long } from '@grpc/proto-loader';

export interface Int64Range {
  'start'?: (number | string | Long);
  'end'?: (number | string | Long);
}

export interface Int64Range__Output {
  'start'?: (number);
  'end'?: (number);
}
