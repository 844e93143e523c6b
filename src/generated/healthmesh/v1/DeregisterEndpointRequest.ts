// Original file: proto/healthmesh/v1/status.proto


export interface DeregisterEndpointRequest {
  'cluster'?: (string);
  'address'?: (string);
  'port'?: (number);
}

export interface DeregisterEndpointRequest__Output {
  'cluster': (string);
  'address': (string);
  'port': (number);
}
