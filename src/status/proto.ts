import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** proto/ at the repository root, resolved from this file (src/status → repo root). */
export const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));
/** Relative to PROTO_ROOT: the names reflection clients see. */
export const STATUS_PROTO_FILE = 'healthmesh/v1/status.proto';
export const AGENT_PROTO_FILE = 'healthmesh/v1/agent.proto';
export const STATUS_SERVICE_NAME = 'healthmesh.v1.Status';
export const AGENT_SERVICE_NAME = 'healthmesh.v1.Agent';

const LOAD_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  arrays: true,
  includeDirs: [PROTO_ROOT],
};

// ---- Wire types: messages as @grpc/proto-loader decodes them with LOAD_OPTIONS -------------------------

export type HealthStatusWire =
  'HEALTH_STATUS_UNSPECIFIED' | 'HEALTH_STATUS_HEALTHY' | 'HEALTH_STATUS_DEGRADED' | 'HEALTH_STATUS_UNHEALTHY' | 'HEALTH_STATUS_DRAINING';
export type CircuitStateWire = 'CIRCUIT_STATE_UNSPECIFIED' | 'CIRCUIT_STATE_CLOSED' | 'CIRCUIT_STATE_OPEN' | 'CIRCUIT_STATE_HALF_OPEN';
export type EndpointSourceWire = 'ENDPOINT_SOURCE_UNSPECIFIED' | 'ENDPOINT_SOURCE_CONFIG' | 'ENDPOINT_SOURCE_RUNTIME';
export type AlertLevelWire = 'ALERT_LEVEL_UNSPECIFIED' | 'ALERT_LEVEL_INFO' | 'ALERT_LEVEL_WARNING' | 'ALERT_LEVEL_CRITICAL';
export type AlertStateWire = 'ALERT_STATE_UNSPECIFIED' | 'ALERT_STATE_FIRING' | 'ALERT_STATE_RESOLVED';
export type XdsProtocolWire = 'XDS_PROTOCOL_UNSPECIFIED' | 'XDS_PROTOCOL_SOTW' | 'XDS_PROTOCOL_DELTA';
/** An enum value the decoder did not know arrives as its number. */
export type EnumIn<T extends string> = T | number;

export interface EndpointWire {
  key: string;
  cluster: string;
  address: string;
  port: number;
  zone: string;
  score: number;
  status: HealthStatusWire;
  circuit: CircuitStateWire;
  health: HealthStatusWire;
  weight: number;
  target_weight: number;
  weight_fraction: number;
  reasons: string[];
  flapping: boolean;
  guarded: boolean;
  drained: boolean;
  source: EndpointSourceWire;
  changed_at_ms: number;
  expected_share: number;
}

export interface ClusterWire {
  name: string;
  total: number;
  healthy: number;
  failing: number;
  ejected: number;
  guarded: number;
  max_ejected: number;
  all_failing: boolean;
  reason: string;
}

export interface HistoryPointWire {
  at_ms: number;
  score: number;
  status: HealthStatusWire;
  circuit: CircuitStateWire;
  health: HealthStatusWire;
  weight: number;
  latency_ms?: number | undefined;
  error_rate?: number | undefined;
  cpu_percent?: number | undefined;
  memory_percent?: number | undefined;
  disk_percent?: number | undefined;
  heartbeat_age_s?: number | undefined;
  reasons: string[];
}

export interface AlertWire {
  id: string;
  rule: string;
  level: AlertLevelWire;
  subject: string;
  cluster: string;
  message: string;
  state: AlertStateWire;
  fired_at_ms: number;
  last_seen_at_ms: number;
  resolved_at_ms: number;
  acknowledged_at_ms: number;
  acknowledged_by: string;
  count: number;
}

export interface NackWire {
  version: string;
  message: string;
  code: number;
  at_ms: number;
  resources: string[];
}

export interface TypeLedgerWire {
  type_url: string;
  sent_version: string;
  sent_at_ms: number;
  acked_version: string;
  acked_at_ms: number;
  publish_to_ack_ms?: number | undefined;
  nacks: number;
  last_nack?: NackWire | null | undefined;
}

export interface ProxyWire {
  stream_id: string;
  node_id: string;
  node_cluster: string;
  user_agent: string;
  protocol: XdsProtocolWire;
  peer: string;
  connected_at_ms: number;
  closed_at_ms: number;
  types: TypeLedgerWire[];
  unknown_types: string[];
}

export interface PreviousStateWire {
  status: HealthStatusWire;
  circuit: CircuitStateWire;
  health: HealthStatusWire;
  weight: number;
}

export interface EndpointRemovedWire {
  key: string;
  cluster: string;
}

export interface SyncedWire {
  clusters: number;
  endpoints: number;
}

interface WatchEventBase {
  at_ms: number;
  previous?: PreviousStateWire | null | undefined;
}

/** A WatchEvent; `event` names the field of the oneof that is set. */
export type WatchEventWire = WatchEventBase &
  (
    | { event: 'endpoint'; endpoint: EndpointWire }
    | { event: 'endpoint_removed'; endpoint_removed: EndpointRemovedWire }
    | { event: 'cluster'; cluster: ClusterWire }
    | { event: 'alert'; alert: AlertWire }
    | { event: 'synced'; synced: SyncedWire }
  );

export type ListClustersRequestWire = Record<string, never>;
export interface ListClustersResponseWire {
  clusters: ClusterWire[];
  degraded: string[];
}
export interface ListEndpointsRequestWire {
  cluster: string;
  status: EnumIn<HealthStatusWire>;
}
export interface ListEndpointsResponseWire {
  endpoints: EndpointWire[];
}
export interface GetEndpointRequestWire {
  key: string;
  cluster: string;
  address: string;
  port: number;
  history_limit: number;
  from_ms: number;
  to_ms: number;
}
export interface GetEndpointResponseWire {
  endpoint: EndpointWire;
  history: HistoryPointWire[];
}
export interface WatchRequestWire {
  cluster: string;
}
export interface RegisterEndpointRequestWire {
  cluster: string;
  address: string;
  port: number;
  weight: number;
  zone: string;
  region: string;
  metadata: Record<string, string>;
}
export interface RegisterEndpointResponseWire {
  endpoint: EndpointWire;
  created: boolean;
}
export interface DeregisterEndpointRequestWire {
  cluster: string;
  address: string;
  port: number;
}
export interface DeregisterEndpointResponseWire {
  removed: boolean;
}
export type ListProxiesRequestWire = Record<string, never>;
export interface ListProxiesResponseWire {
  proxies: ProxyWire[];
}
export interface ListAlertsRequestWire {
  state: EnumIn<AlertStateWire>;
  level: EnumIn<AlertLevelWire>;
  from_ms: number;
  to_ms: number;
}
export interface ListAlertsResponseWire {
  alerts: AlertWire[];
}

/** Request and response of each unary method. */
export interface StatusUnaryMethods {
  ListClusters: [ListClustersRequestWire, ListClustersResponseWire];
  ListEndpoints: [ListEndpointsRequestWire, ListEndpointsResponseWire];
  GetEndpoint: [GetEndpointRequestWire, GetEndpointResponseWire];
  RegisterEndpoint: [RegisterEndpointRequestWire, RegisterEndpointResponseWire];
  DeregisterEndpoint: [DeregisterEndpointRequestWire, DeregisterEndpointResponseWire];
  ListProxies: [ListProxiesRequestWire, ListProxiesResponseWire];
  ListAlerts: [ListAlertsRequestWire, ListAlertsResponseWire];
}
export type StatusUnaryMethod = keyof StatusUnaryMethods;

/** What a handler receives: the decoded request, or why its bytes could not be decoded. */
export type Decoded<T> = T | { malformed: string };
export const isMalformed = <T>(x: Decoded<T>): x is { malformed: string } => typeof x === 'object' && x !== null && 'malformed' in x;

type UnaryCallFn<Req, Res> = {
  (req: Partial<Req>, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void): grpc.ClientUnaryCall;
  (req: Partial<Req>, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void): grpc.ClientUnaryCall;
};

/** A raw healthmesh.v1.Status client (callback style, as grpc-js generates it). */
export type StatusClient = grpc.Client & { [M in StatusUnaryMethod]: UnaryCallFn<StatusUnaryMethods[M][0], StatusUnaryMethods[M][1]> } & {
  Watch(req: Partial<WatchRequestWire>, options?: grpc.CallOptions): grpc.ClientReadableStream<WatchEventWire>;
};

// ---- Loading -------------------------------------------------------------------------------------------

interface Loaded {
  /** status.proto + agent.proto, for reflection. */
  definitions: protoLoader.PackageDefinition;
  client: grpc.ServiceClientConstructor;
  service: grpc.ServiceDefinition;
}

let loaded: Loaded | undefined;

/** The definitions, loaded once per process (they are immutable). */
function load(): Loaded {
  if (loaded) return loaded;
  const definitions = protoLoader.loadSync([STATUS_PROTO_FILE, AGENT_PROTO_FILE], LOAD_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definitions) as unknown as { healthmesh: { v1: { Status: grpc.ServiceClientConstructor } } };
  const client = pkg.healthmesh.v1.Status;
  // A request that does not decode reaches the handler as { malformed } instead of failing inside grpc-js.
  const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(client.service)) {
    const requestDeserialize = (buf: Buffer): unknown => {
      try {
        return method.requestDeserialize(buf);
      } catch (err) {
        return { malformed: (err as Error).message };
      }
    };
    service[name] = { ...method, requestDeserialize };
  }
  loaded = { definitions, client, service };
  return loaded;
}

/** The server-side healthmesh.v1.Status definition (with non-throwing request decoders). */
export function statusServiceDefinition(): grpc.ServiceDefinition {
  return load().service;
}

/** The package definitions of status.proto and agent.proto (for server reflection). */
export function healthmeshPackageDefinition(): protoLoader.PackageDefinition {
  return load().definitions;
}

/** A client for the Status service at `target` (host:port), insecure. */
export function createStatusClient(
  target: string,
  options: grpc.ChannelOptions = {},
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): StatusClient {
  const Ctor = load().client;
  return new Ctor(target, credentials, options) as unknown as StatusClient;
}

/** Promise form of a unary call with a deadline. */
export function callStatus<M extends StatusUnaryMethod>(
  client: StatusClient,
  method: M,
  req: Partial<StatusUnaryMethods[M][0]>,
  deadlineMs = 5000,
  /** Call metadata, e.g. `authorization: Bearer <token>` for RegisterEndpoint / DeregisterEndpoint. */
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<StatusUnaryMethods[M][1]> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as UnaryCallFn<StatusUnaryMethods[M][0], StatusUnaryMethods[M][1]>;
    fn.call(client, req, metadata, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : res ? resolve(res) : reject(new Error(`${method}: no response`)),
    );
  });
}
