import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Alert as _healthmesh_v1_Alert, Alert__Output as _healthmesh_v1_Alert__Output } from './healthmesh/v1/Alert.js';
import type { Cluster as _healthmesh_v1_Cluster, Cluster__Output as _healthmesh_v1_Cluster__Output } from './healthmesh/v1/Cluster.js';
import type { DeregisterEndpointRequest as _healthmesh_v1_DeregisterEndpointRequest, DeregisterEndpointRequest__Output as _healthmesh_v1_DeregisterEndpointRequest__Output } from './healthmesh/v1/DeregisterEndpointRequest.js';
import type { DeregisterEndpointResponse as _healthmesh_v1_DeregisterEndpointResponse, DeregisterEndpointResponse__Output as _healthmesh_v1_DeregisterEndpointResponse__Output } from './healthmesh/v1/DeregisterEndpointResponse.js';
import type { Endpoint as _healthmesh_v1_Endpoint, Endpoint__Output as _healthmesh_v1_Endpoint__Output } from './healthmesh/v1/Endpoint.js';
import type { EndpointRemoved as _healthmesh_v1_EndpointRemoved, EndpointRemoved__Output as _healthmesh_v1_EndpointRemoved__Output } from './healthmesh/v1/EndpointRemoved.js';
import type { GetEndpointRequest as _healthmesh_v1_GetEndpointRequest, GetEndpointRequest__Output as _healthmesh_v1_GetEndpointRequest__Output } from './healthmesh/v1/GetEndpointRequest.js';
import type { GetEndpointResponse as _healthmesh_v1_GetEndpointResponse, GetEndpointResponse__Output as _healthmesh_v1_GetEndpointResponse__Output } from './healthmesh/v1/GetEndpointResponse.js';
import type { HistoryPoint as _healthmesh_v1_HistoryPoint, HistoryPoint__Output as _healthmesh_v1_HistoryPoint__Output } from './healthmesh/v1/HistoryPoint.js';
import type { ListAlertsRequest as _healthmesh_v1_ListAlertsRequest, ListAlertsRequest__Output as _healthmesh_v1_ListAlertsRequest__Output } from './healthmesh/v1/ListAlertsRequest.js';
import type { ListAlertsResponse as _healthmesh_v1_ListAlertsResponse, ListAlertsResponse__Output as _healthmesh_v1_ListAlertsResponse__Output } from './healthmesh/v1/ListAlertsResponse.js';
import type { ListClustersRequest as _healthmesh_v1_ListClustersRequest, ListClustersRequest__Output as _healthmesh_v1_ListClustersRequest__Output } from './healthmesh/v1/ListClustersRequest.js';
import type { ListClustersResponse as _healthmesh_v1_ListClustersResponse, ListClustersResponse__Output as _healthmesh_v1_ListClustersResponse__Output } from './healthmesh/v1/ListClustersResponse.js';
import type { ListEndpointsRequest as _healthmesh_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _healthmesh_v1_ListEndpointsRequest__Output } from './healthmesh/v1/ListEndpointsRequest.js';
import type { ListEndpointsResponse as _healthmesh_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _healthmesh_v1_ListEndpointsResponse__Output } from './healthmesh/v1/ListEndpointsResponse.js';
import type { ListProxiesRequest as _healthmesh_v1_ListProxiesRequest, ListProxiesRequest__Output as _healthmesh_v1_ListProxiesRequest__Output } from './healthmesh/v1/ListProxiesRequest.js';
import type { ListProxiesResponse as _healthmesh_v1_ListProxiesResponse, ListProxiesResponse__Output as _healthmesh_v1_ListProxiesResponse__Output } from './healthmesh/v1/ListProxiesResponse.js';
import type { Nack as _healthmesh_v1_Nack, Nack__Output as _healthmesh_v1_Nack__Output } from './healthmesh/v1/Nack.js';
import type { PreviousState as _healthmesh_v1_PreviousState, PreviousState__Output as _healthmesh_v1_PreviousState__Output } from './healthmesh/v1/PreviousState.js';
import type { Proxy as _healthmesh_v1_Proxy, Proxy__Output as _healthmesh_v1_Proxy__Output } from './healthmesh/v1/Proxy.js';
import type { RegisterEndpointRequest as _healthmesh_v1_RegisterEndpointRequest, RegisterEndpointRequest__Output as _healthmesh_v1_RegisterEndpointRequest__Output } from './healthmesh/v1/RegisterEndpointRequest.js';
import type { RegisterEndpointResponse as _healthmesh_v1_RegisterEndpointResponse, RegisterEndpointResponse__Output as _healthmesh_v1_RegisterEndpointResponse__Output } from './healthmesh/v1/RegisterEndpointResponse.js';
import type { StatusClient as _healthmesh_v1_StatusClient, StatusDefinition as _healthmesh_v1_StatusDefinition } from './healthmesh/v1/Status.js';
import type { Synced as _healthmesh_v1_Synced, Synced__Output as _healthmesh_v1_Synced__Output } from './healthmesh/v1/Synced.js';
import type { TypeLedger as _healthmesh_v1_TypeLedger, TypeLedger__Output as _healthmesh_v1_TypeLedger__Output } from './healthmesh/v1/TypeLedger.js';
import type { WatchEvent as _healthmesh_v1_WatchEvent, WatchEvent__Output as _healthmesh_v1_WatchEvent__Output } from './healthmesh/v1/WatchEvent.js';
import type { WatchRequest as _healthmesh_v1_WatchRequest, WatchRequest__Output as _healthmesh_v1_WatchRequest__Output } from './healthmesh/v1/WatchRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  healthmesh: {
    v1: {
      Alert: MessageTypeDefinition<_healthmesh_v1_Alert, _healthmesh_v1_Alert__Output>
      AlertLevel: EnumTypeDefinition
      AlertState: EnumTypeDefinition
      CircuitState: EnumTypeDefinition
      Cluster: MessageTypeDefinition<_healthmesh_v1_Cluster, _healthmesh_v1_Cluster__Output>
      DeregisterEndpointRequest: MessageTypeDefinition<_healthmesh_v1_DeregisterEndpointRequest, _healthmesh_v1_DeregisterEndpointRequest__Output>
      DeregisterEndpointResponse: MessageTypeDefinition<_healthmesh_v1_DeregisterEndpointResponse, _healthmesh_v1_DeregisterEndpointResponse__Output>
      Endpoint: MessageTypeDefinition<_healthmesh_v1_Endpoint, _healthmesh_v1_Endpoint__Output>
      EndpointRemoved: MessageTypeDefinition<_healthmesh_v1_EndpointRemoved, _healthmesh_v1_EndpointRemoved__Output>
      EndpointSource: EnumTypeDefinition
      GetEndpointRequest: MessageTypeDefinition<_healthmesh_v1_GetEndpointRequest, _healthmesh_v1_GetEndpointRequest__Output>
      GetEndpointResponse: MessageTypeDefinition<_healthmesh_v1_GetEndpointResponse, _healthmesh_v1_GetEndpointResponse__Output>
      HealthStatus: EnumTypeDefinition
      HistoryPoint: MessageTypeDefinition<_healthmesh_v1_HistoryPoint, _healthmesh_v1_HistoryPoint__Output>
      ListAlertsRequest: MessageTypeDefinition<_healthmesh_v1_ListAlertsRequest, _healthmesh_v1_ListAlertsRequest__Output>
      ListAlertsResponse: MessageTypeDefinition<_healthmesh_v1_ListAlertsResponse, _healthmesh_v1_ListAlertsResponse__Output>
      ListClustersRequest: MessageTypeDefinition<_healthmesh_v1_ListClustersRequest, _healthmesh_v1_ListClustersRequest__Output>
      ListClustersResponse: MessageTypeDefinition<_healthmesh_v1_ListClustersResponse, _healthmesh_v1_ListClustersResponse__Output>
      ListEndpointsRequest: MessageTypeDefinition<_healthmesh_v1_ListEndpointsRequest, _healthmesh_v1_ListEndpointsRequest__Output>
      ListEndpointsResponse: MessageTypeDefinition<_healthmesh_v1_ListEndpointsResponse, _healthmesh_v1_ListEndpointsResponse__Output>
      ListProxiesRequest: MessageTypeDefinition<_healthmesh_v1_ListProxiesRequest, _healthmesh_v1_ListProxiesRequest__Output>
      ListProxiesResponse: MessageTypeDefinition<_healthmesh_v1_ListProxiesResponse, _healthmesh_v1_ListProxiesResponse__Output>
      Nack: MessageTypeDefinition<_healthmesh_v1_Nack, _healthmesh_v1_Nack__Output>
      PreviousState: MessageTypeDefinition<_healthmesh_v1_PreviousState, _healthmesh_v1_PreviousState__Output>
      Proxy: MessageTypeDefinition<_healthmesh_v1_Proxy, _healthmesh_v1_Proxy__Output>
      RegisterEndpointRequest: MessageTypeDefinition<_healthmesh_v1_RegisterEndpointRequest, _healthmesh_v1_RegisterEndpointRequest__Output>
      RegisterEndpointResponse: MessageTypeDefinition<_healthmesh_v1_RegisterEndpointResponse, _healthmesh_v1_RegisterEndpointResponse__Output>
      Status: SubtypeConstructor<typeof grpc.Client, _healthmesh_v1_StatusClient> & { service: _healthmesh_v1_StatusDefinition }
      Synced: MessageTypeDefinition<_healthmesh_v1_Synced, _healthmesh_v1_Synced__Output>
      TypeLedger: MessageTypeDefinition<_healthmesh_v1_TypeLedger, _healthmesh_v1_TypeLedger__Output>
      WatchEvent: MessageTypeDefinition<_healthmesh_v1_WatchEvent, _healthmesh_v1_WatchEvent__Output>
      WatchRequest: MessageTypeDefinition<_healthmesh_v1_WatchRequest, _healthmesh_v1_WatchRequest__Output>
      XdsProtocol: EnumTypeDefinition
    }
  }
}

