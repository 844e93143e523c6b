// Original file: proto/healthmesh/v1/status.proto


export interface RegisterEndpointRequest {
  /**
   * An existing cluster.
   */
  'cluster'?: (string);
  /**
   * An IP address (IPv4 or IPv6 literal; host names are refused: Envoy cannot use them in EDS).
   */
  'address'?: (string);
  /**
   * 1..65535
   */
  'port'?: (number);
  /**
   * 1..1000 (0: the default, 1).
   */
  'weight'?: (number);
  /**
   * At most 100 characters each.
   */
  'zone'?: (string);
  'region'?: (string);
  /**
   * At most 64 entries; keys 1..128 of letters, digits, "_", ".", "-", "/"; values at most 1024 characters.
   */
  'metadata'?: ({[key: string]: string});
}

export interface RegisterEndpointRequest__Output {
  /**
   * An existing cluster.
   */
  'cluster': (string);
  /**
   * An IP address (IPv4 or IPv6 literal; host names are refused: Envoy cannot use them in EDS).
   */
  'address': (string);
  /**
   * 1..65535
   */
  'port': (number);
  /**
   * 1..1000 (0: the default, 1).
   */
  'weight': (number);
  /**
   * At most 100 characters each.
   */
  'zone': (string);
  'region': (string);
  /**
   * At most 64 entries; keys 1..128 of letters, digits, "_", ".", "-", "/"; values at most 1024 characters.
   */
  'metadata': ({[key: string]: string});
}
