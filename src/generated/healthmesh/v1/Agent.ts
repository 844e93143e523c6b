// Original file: proto/healthmesh/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { HeartbeatRequest as _healthmesh_v1_HeartbeatRequest, HeartbeatRequest__Output as _healthmesh_v1_HeartbeatRequest__Output } from '../../healthmesh/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _healthmesh_v1_HeartbeatResponse, HeartbeatResponse__Output as _healthmesh_v1_HeartbeatResponse__Output } from '../../healthmesh/v1/HeartbeatResponse.js';

export interface AgentClient extends grpc.Client {
  /**
   * One heartbeat every HeartbeatResponse.next_interval_ms. Refused with INVALID_ARGUMENT naming
   * the bad field, NOT_FOUND for an endpoint of an unknown cluster.
   */
  Heartbeat(argument: _healthmesh_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _healthmesh_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _healthmesh_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _healthmesh_v1_HeartbeatRequest, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  /**
   * One heartbeat every HeartbeatResponse.next_interval_ms. Refused with INVALID_ARGUMENT naming
   * the bad field, NOT_FOUND for an endpoint of an unknown cluster.
   */
  heartbeat(argument: _healthmesh_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _healthmesh_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _healthmesh_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _healthmesh_v1_HeartbeatRequest, callback: grpc.requestCallback<_healthmesh_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One heartbeat every HeartbeatResponse.next_interval_ms. Refused with INVALID_ARGUMENT naming
   * the bad field, NOT_FOUND for an endpoint of an unknown cluster.
   */
  Heartbeat: grpc.handleUnaryCall<_healthmesh_v1_HeartbeatRequest__Output, _healthmesh_v1_HeartbeatResponse>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  Heartbeat: MethodDefinition<_healthmesh_v1_HeartbeatRequest, _healthmesh_v1_HeartbeatResponse, _healthmesh_v1_HeartbeatRequest__Output, _healthmesh_v1_HeartbeatResponse__Output>
}
