import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { orMalformed } from '../decoded.js';
import type { StatusClient, StatusDefinition } from '../generated/healthmesh/v1/Status.js';
import type { ProtoGrpcType } from '../generated/status.js';

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

// ---- Wire types: generated from proto/healthmesh/v1 by `npm run gen:proto` (src/generated) -------------
// `__Output` is a message as @grpc/proto-loader decodes it with LOAD_OPTIONS (the options the types were
// generated with); the names below are the ones the rest of the code uses.

export type { HealthStatus__Output as HealthStatusWire } from '../generated/healthmesh/v1/HealthStatus.js';
export type { CircuitState__Output as CircuitStateWire } from '../generated/healthmesh/v1/CircuitState.js';
export type { AlertLevel__Output as AlertLevelWire } from '../generated/healthmesh/v1/AlertLevel.js';
export type { AlertState__Output as AlertStateWire } from '../generated/healthmesh/v1/AlertState.js';
export type { Endpoint__Output as EndpointWire } from '../generated/healthmesh/v1/Endpoint.js';
export type { Cluster__Output as ClusterWire } from '../generated/healthmesh/v1/Cluster.js';
export type { HistoryPoint__Output as HistoryPointWire } from '../generated/healthmesh/v1/HistoryPoint.js';
export type { Alert__Output as AlertWire } from '../generated/healthmesh/v1/Alert.js';
export type { TypeLedger__Output as TypeLedgerWire } from '../generated/healthmesh/v1/TypeLedger.js';
export type { Proxy__Output as ProxyWire } from '../generated/healthmesh/v1/Proxy.js';
export type { WatchEvent__Output as WatchEventWire } from '../generated/healthmesh/v1/WatchEvent.js';
export type { WatchRequest__Output as WatchRequestWire } from '../generated/healthmesh/v1/WatchRequest.js';
export type { StatusClient } from '../generated/healthmesh/v1/Status.js';

/** The unary methods of healthmesh.v1.Status, and their messages as the generated definition types them. */
export type StatusUnaryMethod = Exclude<MethodName<StatusDefinition>, 'Watch'>;
/** The method names of a generated service definition (without grpc.ServiceDefinition's index signature). */
type MethodName<D> = keyof { [K in keyof D as string extends K ? never : number extends K ? never : K]: D[K] } & string;
type Method<M extends StatusUnaryMethod> = StatusDefinition[M];
/** What a client sends (every field optional). */
export type StatusRequest<M extends StatusUnaryMethod> = Parameters<Method<M>['requestSerialize']>[0];
/** What a server handler receives (decoded, proto3 defaults filled in). */
export type StatusRequestDecoded<M extends StatusUnaryMethod> = ReturnType<Method<M>['requestDeserialize']>;
/** What a server handler returns. */
export type StatusResponse<M extends StatusUnaryMethod> = Parameters<Method<M>['responseSerialize']>[0];
/** What a client receives (decoded, proto3 defaults filled in). */
export type StatusResponseDecoded<M extends StatusUnaryMethod> = ReturnType<Method<M>['responseDeserialize']>;

// ---- Loading -------------------------------------------------------------------------------------------

interface Loaded {
  /** status.proto + agent.proto, for reflection. */
  definitions: protoLoader.PackageDefinition;
  client: ProtoGrpcType['healthmesh']['v1']['Status'];
  service: grpc.ServiceDefinition;
}

let loaded: Loaded | undefined;

/** The definitions, loaded once per process (they are immutable). */
function load(): Loaded {
  if (loaded) return loaded;
  const definitions = protoLoader.loadSync([STATUS_PROTO_FILE, AGENT_PROTO_FILE], LOAD_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definitions) as unknown as ProtoGrpcType;
  const client = pkg.healthmesh.v1.Status;
  // A request that does not decode reaches the handler as { malformed } instead of failing inside grpc-js.
  const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(client.service)) service[name] = { ...method, requestDeserialize: orMalformed(method.requestDeserialize) };
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
  return new Ctor(target, credentials, options);
}

/** Promise form of a unary call with a deadline. */
export function callStatus<M extends StatusUnaryMethod>(
  client: StatusClient,
  method: M,
  req: StatusRequest<M>,
  deadlineMs = 5000,
  /** Call metadata, e.g. `authorization: Bearer <token>` for RegisterEndpoint / DeregisterEndpoint. */
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<StatusResponseDecoded<M>> {
  type Callback = (err: grpc.ServiceError | null, res?: StatusResponseDecoded<M>) => void;
  type UnaryFn = (req: StatusRequest<M>, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<M, UnaryFn>)[method];
    fn.call(client, req, metadata, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : res ? resolve(res) : reject(new Error(`${method}: no response`)),
    );
  });
}
