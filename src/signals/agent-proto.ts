import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { orMalformed, type Decoded } from '../decoded.js';
import type { ProtoGrpcType } from '../generated/agent.js';
import type { AgentClient } from '../generated/healthmesh/v1/Agent.js';
import type { HeartbeatRequest__Output } from '../generated/healthmesh/v1/HeartbeatRequest.js';

/** proto/healthmesh/v1/agent.proto, resolved from this file (src/signals → repo root). */
export const AGENT_PROTO = fileURLToPath(new URL('../../proto/healthmesh/v1/agent.proto', import.meta.url));

// Wire types: generated from proto/healthmesh/v1/agent.proto by `npm run gen:proto` (src/generated), as
// @grpc/proto-loader decodes them with the options `load` uses (proto3 defaults filled in).
export type { HostedEndpoint__Output as HostedEndpoint } from '../generated/healthmesh/v1/HostedEndpoint.js';
export type { HeartbeatRequest__Output as HeartbeatRequestWire } from '../generated/healthmesh/v1/HeartbeatRequest.js';
export type { HeartbeatResponse__Output as HeartbeatResponseWire } from '../generated/healthmesh/v1/HeartbeatResponse.js';
export type { AgentClient } from '../generated/healthmesh/v1/Agent.js';

/** What the intake's handler receives: the request, or why its bytes could not be decoded. */
export type DecodedHeartbeat = Decoded<HeartbeatRequest__Output>;

interface Loaded {
  service: grpc.ServiceDefinition;
  client: ProtoGrpcType['healthmesh']['v1']['Agent'];
}

let loaded: Loaded | undefined;

/** The healthmesh.v1.Agent definitions, loaded once per process (they are immutable). */
function load(): Loaded {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(AGENT_PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, arrays: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  const client = pkg.healthmesh.v1.Agent;
  const method = client.service.Heartbeat;
  if (!method) throw new Error(`${AGENT_PROTO}: no Agent.Heartbeat method`);
  // A request that does not decode reaches the handler as { malformed } instead of failing inside grpc-js.
  loaded = { client, service: { Heartbeat: { ...method, requestDeserialize: orMalformed(method.requestDeserialize) } } as grpc.ServiceDefinition };
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
  return new Ctor(target, credentials, options);
}
