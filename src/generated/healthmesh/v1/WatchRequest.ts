// Original file: proto/healthmesh/v1/status.proto


export interface WatchRequest {
  /**
   * Only events about this cluster (empty: everything). An unknown cluster is NOT_FOUND.
   */
  'cluster'?: (string);
}

export interface WatchRequest__Output {
  /**
   * Only events about this cluster (empty: everything). An unknown cluster is NOT_FOUND.
   */
  'cluster': (string);
}
