// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/endpoint/v3/load_report.proto

import type { Long } from '@grpc/proto-loader';

export interface EndpointLoadMetricStats {
  'metric_name'?: (string);
  'num_requests_finished_with_metric'?: (number | string | Long);
  'total_metric_value'?: (number | string);
}

export interface EndpointLoadMetricStats__Output {
  'metric_name'?: (string);
  'num_requests_finished_with_metric'?: (number);
  'total_metric_value'?: (number);
}
