import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Malformed } from '../decoded.js';
import type { DeltaDiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import { messageType } from './protos.js';

/**
 * What the ADS handlers see of a request, decoded by `decoder` below: the generated `__Output` types
 * (src/generated, `npm run gen:proto`; no 64-bit field in either, so `longs` does not matter).
 */
export type SotwRequest = DiscoveryRequest__Output;
export type DeltaRequest = DeltaDiscoveryRequest__Output;

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

/** DiscoveryResponse: version_info=1, resources=2 (Any), type_url=4, nonce=5, control_plane=6. */
export function encodeSotwResponse(r: SotwResponse): Buffer {
  const w = protobuf.Writer.create();
  w.uint32(10).string(r.version_info);
  for (const res of r.resources) w.uint32(18).bytes(res);
  w.uint32(34).string(r.type_url).uint32(42).string(r.nonce);
  w.uint32(50).fork().uint32(10).string(CONTROL_PLANE_ID).ldelim();
  return Buffer.from(w.finish());
}

/** DeltaDiscoveryResponse: system_version_info=1, resources=2, type_url=4, nonce=5, removed_resources=6, control_plane=7. */
export function encodeDeltaResponse(r: DeltaResponse): Buffer {
  const w = protobuf.Writer.create();
  w.uint32(10).string(r.system_version_info);
  for (const res of r.resources) w.uint32(18).bytes(res);
  w.uint32(34).string(r.type_url).uint32(42).string(r.nonce);
  for (const name of r.removed_resources) w.uint32(50).string(name);
  w.uint32(58).fork().uint32(10).string(CONTROL_PLANE_ID).ldelim();
  return Buffer.from(w.finish());
}

function decoder<T>(typeName: string): (buf: Buffer) => T | Malformed {
  return (buf) => {
    try {
      const type = messageType(typeName);
      return type.toObject(type.decode(buf), { longs: String, enums: String, arrays: true, objects: true }) as T;
    } catch (err) {
      return { malformed: (err as Error).message };
    }
  };
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
