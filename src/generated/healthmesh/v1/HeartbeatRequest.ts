// Original file: proto/healthmesh/v1/agent.proto

import type { HostedEndpoint as _healthmesh_v1_HostedEndpoint, HostedEndpoint__Output as _healthmesh_v1_HostedEndpoint__Output } from '../../healthmesh/v1/HostedEndpoint.js';

export interface HeartbeatRequest {
  /**
   * Identity of the host (required, at most 256 visible ASCII characters).
   */
  'node_id'?: (string);
  /**
   * Endpoints served from this host (at most 1000 per heartbeat, no duplicates).
   */
  'endpoints'?: (_healthmesh_v1_HostedEndpoint)[];
  /**
   * Usage of the host, each 0..100.
   */
  'cpu_percent'?: (number | string);
  'memory_percent'?: (number | string);
  'disk_percent'?: (number | string);
  /**
   * The interval the agent currently uses between heartbeats (100..3600000).
   */
  'interval_ms'?: (number);
  /**
   * Free-form version of the agent (at most 64 characters).
   */
  'agent_version'?: (string);
}

export interface HeartbeatRequest__Output {
  /**
   * Identity of the host (required, at most 256 visible ASCII characters).
   */
  'node_id': (string);
  /**
   * Endpoints served from this host (at most 1000 per heartbeat, no duplicates).
   */
  'endpoints': (_healthmesh_v1_HostedEndpoint__Output)[];
  /**
   * Usage of the host, each 0..100.
   */
  'cpu_percent': (number);
  'memory_percent': (number);
  'disk_percent': (number);
  /**
   * The interval the agent currently uses between heartbeats (100..3600000).
   */
  'interval_ms': (number);
  /**
   * Free-form version of the agent (at most 64 characters).
   */
  'agent_version': (string);
}
