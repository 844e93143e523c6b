import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** proto/healthmesh/v1/agent.proto, resolved from this file (src/signals → repo root). */
export const AGENT_PROTO = fileURLToPath(new URL('../../proto/healthmesh/v1/agent.proto', import.meta.url));

export interface HostedEndpoint {
  cluster: string;
  address: string;
  port: number;
}

/** A decoded HeartbeatRequest (proto3 defaults filled in). */
export interface HeartbeatRequestWire {
  node_id: string;
  endpoints: HostedEndpoint[];
  cpu_percent: number;
  memory_percent: number;
  disk_percent: number;
  interval_ms: number;
  agent_version: string;
}

export interface HeartbeatResponseWire {
  next_interval_ms: number;
  accepted_endpoints: number;
}

/** What the intake's handler receives: the request, or why its bytes could not be decoded. */
export type DecodedHeartbeat = HeartbeatRequestWire | { malformed: string };

export const isMalformedHeartbeat = (x: DecodedHeartbeat): x is { malformed: string } => 'malformed' in x;

export type AgentClient = grpc.Client & {
  Heartbeat(
    req: Partial<HeartbeatRequestWire>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: HeartbeatResponseWire) => void,
  ): grpc.ClientUnaryCall;
  Heartbeat(
    req: Partial<HeartbeatRequestWire>,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: HeartbeatResponseWire) => void,
  ): grpc.ClientUnaryCall;
};

interface Loaded {
  service: grpc.ServiceDefinition;
  client: grpc.ServiceClientConstructor;
}

let loaded: Loaded | undefined;

/** The healthmesh.v1.Agent definitions, loaded once per process (they are immutable). */
function load(): Loaded {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(AGENT_PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, arrays: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { healthmesh: { v1: { Agent: grpc.ServiceClientConstructor } } };
  const client = pkg.healthmesh.v1.Agent;
  const method = client.service.Heartbeat;
  if (!method) throw new Error(`${AGENT_PROTO}: no Agent.Heartbeat method`);
  // A request that does not decode reaches the handler as { malformed } instead of failing inside grpc-js.
  const requestDeserialize = (buf: Buffer): DecodedHeartbeat => {
    try {
      return method.requestDeserialize(buf) as HeartbeatRequestWire;
    } catch (err) {
      return { malformed: (err as Error).message };
    }
  };
  loaded = { client, service: { Heartbeat: { ...method, requestDeserialize } } as grpc.ServiceDefinition };
  return loaded;
}

/** The server-side service definition (with a non-throwing request decoder). */
export function agentServiceDefinition(): grpc.ServiceDefinition {
  return load().service;
}

/** A client for the Agent service at `target` (host:port); insecure unless `credentials` (TLS) are given. */
export function createAgentClient(
  target: string,
  options: grpc.ChannelOptions = {},
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): AgentClient {
  const Ctor = load().client;
  return new Ctor(target, credentials, options) as unknown as AgentClient;
}
