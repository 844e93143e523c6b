import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { orMalformed, type Decoded } from '../decoded.js';
import type { ClusterStats__Output } from '../generated/envoy/config/endpoint/v3/ClusterStats.js';
import type { Duration } from '../generated/google/protobuf/Duration.js';
import type { LoadStatsRequest__Output } from '../generated/envoy/service/load_stats/v3/LoadStatsRequest.js';
import { messageType } from '../xds/protos.js';

/**
 * A decoded LoadStatsRequest, as decodeLoadStatsRequest gives it (longs as numbers; only `node.id` of
 * the Node): the generated types (src/generated, `npm run gen:proto`), every field optional.
 */
export type LoadStatsRequest = LoadStatsRequest__Output;
export type { UpstreamEndpointStats__Output as UpstreamEndpointStats } from '../generated/envoy/config/endpoint/v3/UpstreamEndpointStats.js';
/** What the server sends. */
export type { LoadStatsResponse } from '../generated/envoy/service/load_stats/v3/LoadStatsResponse.js';

export type DecodedLoadStats = Decoded<LoadStatsRequest>;

const SERVICE = 'envoy.service.load_stats.v3.LoadReportingService';

let service: grpc.ServiceDefinition | undefined;

/**
 * LoadReportingService/StreamLoadStats for grpc-js, over the Envoy protos the xDS server already holds
 * (`envoyRoot()`, loaded on the first response): no second copy through proto-loader (~5 MiB at start).
 * Decoding is ours (decodeLoadStatsRequest); responses are encoded with protobufjs.
 */
export function lrsServiceDefinition(): grpc.ServiceDefinition {
  if (service) return service;
  const codec = (name: string) => {
    let type: protobuf.Type | undefined;
    const get = (): protobuf.Type => (type ??= messageType(name));
    return {
      encode: (value: object): Buffer => Buffer.from(get().encode(get().fromObject(value)).finish()),
      decode: (bytes: Buffer): object => get().toObject(get().decode(bytes), { longs: Number, enums: String, arrays: true }),
    };
  };
  const request = codec('envoy.service.load_stats.v3.LoadStatsRequest');
  const response = codec('envoy.service.load_stats.v3.LoadStatsResponse');
  service = {
    StreamLoadStats: {
      path: `/${SERVICE}/StreamLoadStats`,
      requestStream: true,
      responseStream: true,
      originalName: 'streamLoadStats',
      requestSerialize: request.encode,
      requestDeserialize: decodeLoadStatsRequest,
      responseSerialize: response.encode,
      responseDeserialize: response.decode,
    },
  } as grpc.ServiceDefinition;
  return service;
}

const TAG_NODE = (1 << 3) | 2;
const TAG_CLUSTER_STATS = (2 << 3) | 2;
const TAG_NODE_ID = (1 << 3) | 2;

/** Reads a length prefix and checks that many bytes are really there. */
function sub(r: protobuf.Reader): number {
  const len = r.uint32();
  if (len > r.len - r.pos) throw new RangeError(`length ${len} exceeds the ${r.len - r.pos} bytes left`);
  return r.pos + len;
}

/** node.id without decoding the rest of the Node (Envoy sends its whole Node, ~80 KB, in every report). */
function readNodeId(r: protobuf.Reader, end: number): string | undefined {
  let id: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_NODE_ID) {
      const stop = sub(r);
      id = protobuf.util.utf8.read(r.buf, r.pos, stop);
      r.pos = stop;
    } else {
      r.skipType(tag & 7);
    }
  }
  if (r.pos > end) throw new RangeError('node: truncated');
  return id;
}

const CLUSTER_STATS_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, arrays: true, defaults: false };

/**
 * LoadStatsRequest decoder: node.id plus cluster_stats, skipping the rest of the Node. Bytes that do
 * not decode give `{ malformed }` (the stream handler logs them and keeps the stream).
 */
export const decodeLoadStatsRequest: (buf: Uint8Array) => DecodedLoadStats = orMalformed(readLoadStatsRequest);

function readLoadStatsRequest(buf: Uint8Array): LoadStatsRequest {
  const clusterStats = messageType('envoy.config.endpoint.v3.ClusterStats');
  const r = protobuf.Reader.create(buf);
  const out: LoadStatsRequest = { cluster_stats: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === TAG_NODE) {
      const end = sub(r);
      out.node = { id: readNodeId(r, end) };
      r.pos = end;
    } else if (tag === TAG_CLUSTER_STATS) {
      const end = sub(r);
      const msg = clusterStats.decode(r, end - r.pos);
      if (r.pos !== end) throw new RangeError('cluster_stats: truncated');
      out.cluster_stats?.push(clusterStats.toObject(msg, CLUSTER_STATS_OBJECT) as ClusterStats__Output);
    } else {
      r.skipType(tag & 7);
    }
  }
  if (r.pos !== r.len) throw new RangeError('truncated message');
  return out;
}

export function msToDuration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Milliseconds of a Duration (seconds as a number or an int64 string), or undefined if absent or not a sane number. */
export function durationToMs(d: Duration | null | undefined): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds ?? 0) * 1000 + Number(d.nanos ?? 0) / 1e6;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
