// Original file: proto/healthmesh/v1/agent.proto


/**
 * An endpoint served from the agent's host, as the control plane knows it (cluster/address:port).
 */
export interface HostedEndpoint {
  'cluster'?: (string);
  'address'?: (string);
  'port'?: (number);
}

/**
 * An endpoint served from the agent's host, as the control plane knows it (cluster/address:port).
 */
export interface HostedEndpoint__Output {
  'cluster': (string);
  'address': (string);
  'port': (number);
}
