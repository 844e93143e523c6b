import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentClient as _healthmesh_v1_AgentClient, AgentDefinition as _healthmesh_v1_AgentDefinition } from './healthmesh/v1/Agent.js';
import type { HeartbeatRequest as _healthmesh_v1_HeartbeatRequest, HeartbeatRequest__Output as _healthmesh_v1_HeartbeatRequest__Output } from './healthmesh/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _healthmesh_v1_HeartbeatResponse, HeartbeatResponse__Output as _healthmesh_v1_HeartbeatResponse__Output } from './healthmesh/v1/HeartbeatResponse.js';
import type { HostedEndpoint as _healthmesh_v1_HostedEndpoint, HostedEndpoint__Output as _healthmesh_v1_HostedEndpoint__Output } from './healthmesh/v1/HostedEndpoint.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  healthmesh: {
    v1: {
      Agent: SubtypeConstructor<typeof grpc.Client, _healthmesh_v1_AgentClient> & { service: _healthmesh_v1_AgentDefinition }
      HeartbeatRequest: MessageTypeDefinition<_healthmesh_v1_HeartbeatRequest, _healthmesh_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_healthmesh_v1_HeartbeatResponse, _healthmesh_v1_HeartbeatResponse__Output>
      HostedEndpoint: MessageTypeDefinition<_healthmesh_v1_HostedEndpoint, _healthmesh_v1_HostedEndpoint__Output>
    }
  }
}

