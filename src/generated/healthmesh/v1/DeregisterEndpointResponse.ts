// Original file: proto/healthmesh/v1/status.proto


export interface DeregisterEndpointResponse {
  /**
   * False when there was no such endpoint.
   */
  'removed'?: (boolean);
}

export interface DeregisterEndpointResponse__Output {
  /**
   * False when there was no such endpoint.
   */
  'removed': (boolean);
}
