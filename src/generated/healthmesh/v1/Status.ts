// Original file: proto/healthmesh/v1/status.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeregisterEndpointRequest as _healthmesh_v1_DeregisterEndpointRequest, DeregisterEndpointRequest__Output as _healthmesh_v1_DeregisterEndpointRequest__Output } from '../../healthmesh/v1/DeregisterEndpointRequest.js';
import type { DeregisterEndpointResponse as _healthmesh_v1_DeregisterEndpointResponse, DeregisterEndpointResponse__Output as _healthmesh_v1_DeregisterEndpointResponse__Output } from '../../healthmesh/v1/DeregisterEndpointResponse.js';
import type { GetEndpointRequest as _healthmesh_v1_GetEndpointRequest, GetEndpointRequest__Output as _healthmesh_v1_GetEndpointRequest__Output } from '../../healthmesh/v1/GetEndpointRequest.js';
import type { GetEndpointResponse as _healthmesh_v1_GetEndpointResponse, GetEndpointResponse__Output as _healthmesh_v1_GetEndpointResponse__Output } from '../../healthmesh/v1/GetEndpointResponse.js';
import type { ListAlertsRequest as _healthmesh_v1_ListAlertsRequest, ListAlertsRequest__Output as _healthmesh_v1_ListAlertsRequest__Output } from '../../healthmesh/v1/ListAlertsRequest.js';
import type { ListAlertsResponse as _healthmesh_v1_ListAlertsResponse, ListAlertsResponse__Output as _healthmesh_v1_ListAlertsResponse__Output } from '../../healthmesh/v1/ListAlertsResponse.js';
import type { ListClustersRequest as _healthmesh_v1_ListClustersRequest, ListClustersRequest__Output as _healthmesh_v1_ListClustersRequest__Output } from '../../healthmesh/v1/ListClustersRequest.js';
import type { ListClustersResponse as _healthmesh_v1_ListClustersResponse, ListClustersResponse__Output as _healthmesh_v1_ListClustersResponse__Output } from '../../healthmesh/v1/ListClustersResponse.js';
import type { ListEndpointsRequest as _healthmesh_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _healthmesh_v1_ListEndpointsRequest__Output } from '../../healthmesh/v1/ListEndpointsRequest.js';
import type { ListEndpointsResponse as _healthmesh_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _healthmesh_v1_ListEndpointsResponse__Output } from '../../healthmesh/v1/ListEndpointsResponse.js';
import type { ListProxiesRequest as _healthmesh_v1_ListProxiesRequest, ListProxiesRequest__Output as _healthmesh_v1_ListProxiesRequest__Output } from '../../healthmesh/v1/ListProxiesRequest.js';
import type { ListProxiesResponse as _healthmesh_v1_ListProxiesResponse, ListProxiesResponse__Output as _healthmesh_v1_ListProxiesResponse__Output } from '../../healthmesh/v1/ListProxiesResponse.js';
import type { RegisterEndpointRequest as _healthmesh_v1_RegisterEndpointRequest, RegisterEndpointRequest__Output as _healthmesh_v1_RegisterEndpointRequest__Output } from '../../healthmesh/v1/RegisterEndpointRequest.js';
import type { RegisterEndpointResponse as _healthmesh_v1_RegisterEndpointResponse, RegisterEndpointResponse__Output as _healthmesh_v1_RegisterEndpointResponse__Output } from '../../healthmesh/v1/RegisterEndpointResponse.js';
import type { WatchEvent as _healthmesh_v1_WatchEvent, WatchEvent__Output as _healthmesh_v1_WatchEvent__Output } from '../../healthmesh/v1/WatchEvent.js';
import type { WatchRequest as _healthmesh_v1_WatchRequest, WatchRequest__Output as _healthmesh_v1_WatchRequest__Output } from '../../healthmesh/v1/WatchRequest.js';

export interface StatusClient extends grpc.Client {
  /**
   * Removes an endpoint registered at runtime. Idempotent: removed = false when it was not there.
   * Endpoints declared in the configuration file cannot be deregistered (INVALID_ARGUMENT).
   */
  DeregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  DeregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  DeregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  DeregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes an endpoint registered at runtime. Idempotent: removed = false when it was not there.
   * Endpoints declared in the configuration file cannot be deregistered (INVALID_ARGUMENT).
   */
  deregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  deregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  deregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  deregisterEndpoint(argument: _healthmesh_v1_DeregisterEndpointRequest, callback: grpc.requestCallback<_healthmesh_v1_DeregisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * One endpoint and its recent history.
   */
  GetEndpoint(argument: _healthmesh_v1_GetEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  GetEndpoint(argument: _healthmesh_v1_GetEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  GetEndpoint(argument: _healthmesh_v1_GetEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  GetEndpoint(argument: _healthmesh_v1_GetEndpointRequest, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  /**
   * One endpoint and its recent history.
   */
  getEndpoint(argument: _healthmesh_v1_GetEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  getEndpoint(argument: _healthmesh_v1_GetEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  getEndpoint(argument: _healthmesh_v1_GetEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  getEndpoint(argument: _healthmesh_v1_GetEndpointRequest, callback: grpc.requestCallback<_healthmesh_v1_GetEndpointResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Alerts, optionally filtered.
   */
  ListAlerts(argument: _healthmesh_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _healthmesh_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _healthmesh_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _healthmesh_v1_ListAlertsRequest, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Alerts, optionally filtered.
   */
  listAlerts(argument: _healthmesh_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _healthmesh_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _healthmesh_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _healthmesh_v1_ListAlertsRequest, callback: grpc.requestCallback<_healthmesh_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every cluster with its health summary, sorted by name.
   */
  ListClusters(argument: _healthmesh_v1_ListClustersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  ListClusters(argument: _healthmesh_v1_ListClustersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  ListClusters(argument: _healthmesh_v1_ListClustersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  ListClusters(argument: _healthmesh_v1_ListClustersRequest, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every cluster with its health summary, sorted by name.
   */
  listClusters(argument: _healthmesh_v1_ListClustersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  listClusters(argument: _healthmesh_v1_ListClustersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  listClusters(argument: _healthmesh_v1_ListClustersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  listClusters(argument: _healthmesh_v1_ListClustersRequest, callback: grpc.requestCallback<_healthmesh_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Endpoints, optionally of one cluster and/or with one status.
   */
  ListEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Endpoints, optionally of one cluster and/or with one status.
   */
  listEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _healthmesh_v1_ListEndpointsRequest, callback: grpc.requestCallback<_healthmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Per connected proxy: what it was sent, what it acknowledged, what it rejected and why.
   */
  ListProxies(argument: _healthmesh_v1_ListProxiesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  ListProxies(argument: _healthmesh_v1_ListProxiesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  ListProxies(argument: _healthmesh_v1_ListProxiesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  ListProxies(argument: _healthmesh_v1_ListProxiesRequest, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Per connected proxy: what it was sent, what it acknowledged, what it rejected and why.
   */
  listProxies(argument: _healthmesh_v1_ListProxiesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  listProxies(argument: _healthmesh_v1_ListProxiesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  listProxies(argument: _healthmesh_v1_ListProxiesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  listProxies(argument: _healthmesh_v1_ListProxiesRequest, callback: grpc.requestCallback<_healthmesh_v1_ListProxiesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Adds an endpoint to a configured cluster (persisted). Idempotent: registering an existing
   * endpoint again returns it with created = false.
   */
  RegisterEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  RegisterEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  RegisterEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  RegisterEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Adds an endpoint to a configured cluster (persisted). Idempotent: registering an existing
   * endpoint again returns it with created = false.
   */
  registerEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  registerEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  registerEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  registerEndpoint(argument: _healthmesh_v1_RegisterEndpointRequest, callback: grpc.requestCallback<_healthmesh_v1_RegisterEndpointResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The current state (one event per cluster, then one per endpoint), a `synced` marker, then
   * every change as it happens. A client that stops reading is closed with RESOURCE_EXHAUSTED
   * once it is too far behind (call Watch again to resync); events about the same subject are
   * coalesced while it is behind. Ends with UNAVAILABLE when the server stops.
   */
  Watch(argument: _healthmesh_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_healthmesh_v1_WatchEvent__Output>;
  Watch(argument: _healthmesh_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_healthmesh_v1_WatchEvent__Output>;
  /**
   * The current state (one event per cluster, then one per endpoint), a `synced` marker, then
   * every change as it happens. A client that stops reading is closed with RESOURCE_EXHAUSTED
   * once it is too far behind (call Watch again to resync); events about the same subject are
   * coalesced while it is behind. Ends with UNAVAILABLE when the server stops.
   */
  watch(argument: _healthmesh_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_healthmesh_v1_WatchEvent__Output>;
  watch(argument: _healthmesh_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_healthmesh_v1_WatchEvent__Output>;
  
}

export interface StatusHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Removes an endpoint registered at runtime. Idempotent: removed = false when it was not there.
   * Endpoints declared in the configuration file cannot be deregistered (INVALID_ARGUMENT).
   */
  DeregisterEndpoint: grpc.handleUnaryCall<_healthmesh_v1_DeregisterEndpointRequest__Output, _healthmesh_v1_DeregisterEndpointResponse>;
  
  /**
   * One endpoint and its recent history.
   */
  GetEndpoint: grpc.handleUnaryCall<_healthmesh_v1_GetEndpointRequest__Output, _healthmesh_v1_GetEndpointResponse>;
  
  /**
   * Alerts, optionally filtered.
   */
  ListAlerts: grpc.handleUnaryCall<_healthmesh_v1_ListAlertsRequest__Output, _healthmesh_v1_ListAlertsResponse>;
  
  /**
   * Every cluster with its health summary, sorted by name.
   */
  ListClusters: grpc.handleUnaryCall<_healthmesh_v1_ListClustersRequest__Output, _healthmesh_v1_ListClustersResponse>;
  
  /**
   * Endpoints, optionally of one cluster and/or with one status.
   */
  ListEndpoints: grpc.handleUnaryCall<_healthmesh_v1_ListEndpointsRequest__Output, _healthmesh_v1_ListEndpointsResponse>;
  
  /**
   * Per connected proxy: what it was sent, what it acknowledged, what it rejected and why.
   */
  ListProxies: grpc.handleUnaryCall<_healthmesh_v1_ListProxiesRequest__Output, _healthmesh_v1_ListProxiesResponse>;
  
  /**
   * Adds an endpoint to a configured cluster (persisted). Idempotent: registering an existing
   * endpoint again returns it with created = false.
   */
  RegisterEndpoint: grpc.handleUnaryCall<_healthmesh_v1_RegisterEndpointRequest__Output, _healthmesh_v1_RegisterEndpointResponse>;
  
  /**
   * The current state (one event per cluster, then one per endpoint), a `synced` marker, then
   * every change as it happens. A client that stops reading is closed with RESOURCE_EXHAUSTED
   * once it is too far behind (call Watch again to resync); events about the same subject are
   * coalesced while it is behind. Ends with UNAVAILABLE when the server stops.
   */
  Watch: grpc.handleServerStreamingCall<_healthmesh_v1_WatchRequest__Output, _healthmesh_v1_WatchEvent>;
  
}

export interface StatusDefinition extends grpc.ServiceDefinition {
  DeregisterEndpoint: MethodDefinition<_healthmesh_v1_DeregisterEndpointRequest, _healthmesh_v1_DeregisterEndpointResponse, _healthmesh_v1_DeregisterEndpointRequest__Output, _healthmesh_v1_DeregisterEndpointResponse__Output>
  GetEndpoint: MethodDefinition<_healthmesh_v1_GetEndpointRequest, _healthmesh_v1_GetEndpointResponse, _healthmesh_v1_GetEndpointRequest__Output, _healthmesh_v1_GetEndpointResponse__Output>
  ListAlerts: MethodDefinition<_healthmesh_v1_ListAlertsRequest, _healthmesh_v1_ListAlertsResponse, _healthmesh_v1_ListAlertsRequest__Output, _healthmesh_v1_ListAlertsResponse__Output>
  ListClusters: MethodDefinition<_healthmesh_v1_ListClustersRequest, _healthmesh_v1_ListClustersResponse, _healthmesh_v1_ListClustersRequest__Output, _healthmesh_v1_ListClustersResponse__Output>
  ListEndpoints: MethodDefinition<_healthmesh_v1_ListEndpointsRequest, _healthmesh_v1_ListEndpointsResponse, _healthmesh_v1_ListEndpointsRequest__Output, _healthmesh_v1_ListEndpointsResponse__Output>
  ListProxies: MethodDefinition<_healthmesh_v1_ListProxiesRequest, _healthmesh_v1_ListProxiesResponse, _healthmesh_v1_ListProxiesRequest__Output, _healthmesh_v1_ListProxiesResponse__Output>
  RegisterEndpoint: MethodDefinition<_healthmesh_v1_RegisterEndpointRequest, _healthmesh_v1_RegisterEndpointResponse, _healthmesh_v1_RegisterEndpointRequest__Output, _healthmesh_v1_RegisterEndpointResponse__Output>
  Watch: MethodDefinition<_healthmesh_v1_WatchRequest, _healthmesh_v1_WatchEvent, _healthmesh_v1_WatchRequest__Output, _healthmesh_v1_WatchEvent__Output>
}
