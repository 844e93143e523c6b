// Original file: proto/healthmesh/v1/status.proto


export interface EndpointRemoved {
  'key'?: (string);
  'cluster'?: (string);
}

export interface EndpointRemoved__Output {
  'key': (string);
  'cluster': (string);
}
