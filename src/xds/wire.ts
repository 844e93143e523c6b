import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Malformed } from '../decoded.js';
import type { DeltaDiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { Node__Output } from '../generated/envoy/config/core/v3/Node.js';
import type { Status__Output } from '../generated/google/rpc/Status.js';
import { messageType } from './protos.js';

/**
 * What the ADS handlers see of a request, decoded by `decoder` below: the generated `__Output` type
 * (src/generated, `npm run gen:proto`) with `node` kept as bytes (`decodeNode` reads it once per
 * stream). The decoder returns message instances: unset strings are '', unset messages null.
 */
type WithNodeBytes<T> = Omit<T, 'node' | 'error_detail'> & { node?: Uint8Array | null; error_detail?: Status__Output | null };
export type SotwRequest = WithNodeBytes<DiscoveryRequest__Output>;
export type DeltaRequest = WithNodeBytes<DeltaDiscoveryRequest__Output>;

export { isMalformed, type Malformed } from '../decoded.js';

/** A response whose resources are pre-encoded bytes shared by every stream. */
export interface SotwResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: readonly Uint8Array[];
}

export interface DeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  resources: readonly Uint8Array[];
  removed_resources: readonly string[];
}

const CONTROL_PLANE_ID = 'healthmesh';

/**
 * Responses are built from byte pieces: the resources are already encoded (shared by every stream), the
 * constant fields are encoded once per type, and only the version and nonce are encoded per response.
 * Protobuf fields are just concatenated (tag, length, bytes), so no message writer is needed.
 */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n >>>= 7;
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, n: number, at: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[at++] = n;
  return at;
}

/** A length-delimited field (`tag` = field number << 3 | 2, below 128). */
function fieldLength(bytes: number): number {
  return 1 + varintLength(bytes) + bytes;
}

function writeBytesField(buf: Buffer, tag: number, bytes: Uint8Array, at: number): number {
  buf[at++] = tag;
  at = writeVarint(buf, bytes.length, at);
  buf.set(bytes, at);
  return at + bytes.length;
}

/** UTF-8 length of `s`; for ASCII (versions, nonces: always) without leaving JavaScript. */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s);
  return s.length;
}

function writeStringField(buf: Buffer, tag: number, s: string, bytes: number, at: number): number {
  buf[at++] = tag;
  at = writeVarint(buf, bytes, at);
  if (bytes === s.length) for (let i = 0; i < bytes; i++) buf[at + i] = s.charCodeAt(i);
  else buf.write(s, at, bytes, 'utf8');
  return at + bytes;
}

/** The fields every response of a type carries: type_url and control_plane { identifier }, per control_plane field tag. */
const constantTails = new Map<number, Map<string, Buffer>>();
function constantTail(typeUrl: string, controlPlaneTag: number): Buffer {
  let tails = constantTails.get(controlPlaneTag);
  if (!tails) constantTails.set(controlPlaneTag, (tails = new Map()));
  let tail = tails.get(typeUrl);
  if (!tail) {
    const id = Buffer.from(CONTROL_PLANE_ID);
    const cp = Buffer.alloc(fieldLength(id.length));
    writeBytesField(cp, 10, id, 0);
    const url = Buffer.from(typeUrl);
    tail = Buffer.alloc(fieldLength(url.length) + fieldLength(cp.length));
    writeBytesField(tail, controlPlaneTag, cp, writeBytesField(tail, 34, url, 0));
    if (tails.size < 64) tails.set(typeUrl, tail);
  }
  return tail;
}

function encodeResponse(version: string, resources: readonly Uint8Array[], typeUrl: string, nonce: string, removed: readonly string[], cpTag: number): Buffer {
  const versionBytes = utf8Length(version);
  const nonceBytes = utf8Length(nonce);
  const tail = constantTail(typeUrl, cpTag);
  let size = fieldLength(versionBytes) + fieldLength(nonceBytes) + tail.length;
  for (const r of resources) size += fieldLength(r.length);
  const removedBytes = removed.map(utf8Length);
  for (const b of removedBytes) size += fieldLength(b);
  const buf = Buffer.allocUnsafe(size);
  let at = writeStringField(buf, 10, version, versionBytes, 0);
  for (const r of resources) at = writeBytesField(buf, 18, r, at);
  at = writeStringField(buf, 42, nonce, nonceBytes, at);
  removed.forEach((n, i) => (at = writeStringField(buf, 50, n, removedBytes[i]!, at)));
  buf.set(tail, at);
  return buf;
}

/** DiscoveryResponse: version_info=1, resources=2 (Any), type_url=4, nonce=5, control_plane=6. */
export function encodeSotwResponse(r: SotwResponse): Buffer {
  return encodeResponse(r.version_info, r.resources, r.type_url, r.nonce, [], 50);
}

/** DeltaDiscoveryResponse: system_version_info=1, resources=2, type_url=4, nonce=5, removed_resources=6, control_plane=7. */
export function encodeDeltaResponse(r: DeltaResponse): Buffer {
  return encodeResponse(r.system_version_info, r.resources, r.type_url, r.nonce, r.removed_resources, 58);
}

/**
 * Request decoders. Envoy sends its node (with its build, extensions and metadata: often kilobytes) on every
 * request, but a stream reads it once: these decode a copy of the request type whose `node` is bytes, and
 * `decodeNode` decodes it on the stream's first request. The decoded message is used as is (repeated and
 * map fields start empty, strings default to ''), without a conversion pass.
 */
function lazyNodeType(fullName: string): protobuf.Type {
  const original = messageType(fullName);
  const lazy = new protobuf.Type(`${original.name}WithNodeBytes`);
  for (const f of original.fieldsArray) {
    if (f.name === 'node') lazy.add(new protobuf.Field('node', f.id, 'bytes'));
    else if (f instanceof protobuf.MapField) lazy.add(new protobuf.MapField(f.name, f.id, f.keyType, f.type));
    else lazy.add(new protobuf.Field(f.name, f.id, f.type, f.repeated ? 'repeated' : 'optional'));
  }
  original.parent!.add(lazy); // same namespace: relative type names resolve as in the original
  return lazy;
}

function decoder<T>(typeName: string): (buf: Buffer) => T | Malformed {
  let type: protobuf.Type | undefined;
  return (buf) => {
    try {
      type ??= lazyNodeType(typeName);
      return type.decode(buf) as unknown as T;
    } catch (err) {
      return { malformed: (err as Error).message };
    }
  };
}

/** What the control plane reads of a request's node: its identity (Envoy's full node also lists its ~200 extensions). */
const NODE_FIELDS = ['id', 'cluster', 'user_agent_name', 'user_agent_version'] as const;
export type RequestNode = Pick<Node__Output, (typeof NODE_FIELDS)[number]>;

let nodeType: protobuf.Type | undefined;

/**
 * The node's identity fields, as a type of their own in the node's namespace: the other fields (metadata,
 * extensions, build version) are skipped, not decoded (~85 µs for an Envoy node, a few µs this way).
 */
function nodeIdentityType(): protobuf.Type {
  const original = messageType('envoy.config.core.v3.Node');
  const identity = new protobuf.Type('NodeIdentity');
  for (const name of NODE_FIELDS) {
    const f = original.fields[name]!;
    identity.add(new protobuf.Field(f.name, f.id, f.type));
  }
  original.parent!.add(identity);
  return identity;
}

/** The node of a request (its identity, decoded from its bytes), or why it could not be. */
export function decodeNode(bytes: Uint8Array): RequestNode | Malformed {
  try {
    nodeType ??= nodeIdentityType();
    return nodeType.decode(bytes) as unknown as RequestNode;
  } catch (err) {
    return { malformed: `node: ${(err as Error).message}` };
  }
}

const decodeFail = (): never => {
  throw new Error('the control plane does not decode responses');
};

export const decodeSotwRequest = decoder<SotwRequest>('envoy.service.discovery.v3.DiscoveryRequest');
export const decodeDeltaRequest = decoder<DeltaRequest>('envoy.service.discovery.v3.DeltaDiscoveryRequest');

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

/** The ADS service, with serializers that splice pre-encoded resources into each response. */
export const adsService = {
  StreamAggregatedResources: {
    path: `${ADS}/StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: decodeFail,
    requestDeserialize: decodeSotwRequest,
    responseSerialize: encodeSotwResponse,
    responseDeserialize: decodeFail,
    originalName: 'streamAggregatedResources',
  },
  DeltaAggregatedResources: {
    path: `${ADS}/DeltaAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: decodeFail,
    requestDeserialize: decodeDeltaRequest,
    responseSerialize: encodeDeltaResponse,
    responseDeserialize: decodeFail,
    originalName: 'deltaAggregatedResources',
  },
} as unknown as ServiceDefinition;
