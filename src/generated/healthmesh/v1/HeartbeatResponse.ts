// Original file: proto/healthmesh/v1/agent.proto


export interface HeartbeatResponse {
  /**
   * When to send the next heartbeat (the agent should follow it).
   */
  'next_interval_ms'?: (number);
  /**
   * How many of the request's endpoints the control plane attached the sample to.
   */
  'accepted_endpoints'?: (number);
}

export interface HeartbeatResponse__Output {
  /**
   * When to send the next heartbeat (the agent should follow it).
   */
  'next_interval_ms': (number);
  /**
   * How many of the request's endpoints the control plane attached the sample to.
   */
  'accepted_endpoints': (number);
}
