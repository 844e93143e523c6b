import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * Envoy's v3 API, loaded once from the protos bundled with @grpc/grpc-js-xds (deps/).
 * One protobufjs Root serves both resource encoding and the ADS wire format.
 */
export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

export type XdsTypeUrl = (typeof TYPE)['listener' | 'route' | 'cluster' | 'endpoint'];

/** Make-before-break order: clusters, then their endpoints, then listeners, then the routes they use. */
export const PUSH_ORDER: readonly XdsTypeUrl[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route];

const CANONICAL = new Map<string, XdsTypeUrl>(PUSH_ORDER.map((t) => [t, t]));

/**
 * The served type a request's `type_url` names, as the constant above (undefined for any other type): a decoded
 * request carries a fresh string, and every map keyed by type then compares the constant by identity.
 */
export function xdsType(typeUrl: string): XdsTypeUrl | undefined {
  return CANONICAL.get(typeUrl);
}

/** The Envoy API files healthmesh loads (and generates types for: scripts/gen-proto.ts). */
export const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/load_stats/v3/lrs.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

export function protoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const xdsRoot = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const pbRoot = dirname(require.resolve('protobufjs/package.json'));
  const deps = join(xdsRoot, 'deps');
  return [join(deps, 'envoy-api'), join(deps, 'xds'), join(deps, 'googleapis'), join(deps, 'protoc-gen-validate'), pbRoot];
}

let cached: protobuf.Root | undefined;

/** The loaded Envoy API root (loaded lazily, once per process: it is immutable). */
export function envoyRoot(): protobuf.Root {
  if (cached) return cached;
  const dirs = protoIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of dirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

const types = new Map<string, protobuf.Type>();

/** The message type `fullName`, looked up once (protobufjs' lookup walks the namespace tree each call: ~10 µs). */
export function messageType(fullName: string): protobuf.Type {
  let type = types.get(fullName);
  if (!type) {
    type = envoyRoot().lookupType(fullName);
    types.set(fullName, type);
  }
  return type;
}

/** Encode `obj` as message `typeUrl` and return the `google.protobuf.Any` fields. */
export function packAny(typeUrl: string, obj: object): { type_url: string; value: Uint8Array } {
  const type = messageType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  return { type_url: typeUrl, value: type.encode(type.fromObject(obj)).finish() };
}

/** Encode a google.protobuf.Any message (type_url = 1, value = 2). */
export function encodeAny(any: { type_url: string; value: Uint8Array }): Uint8Array {
  return protobuf.Writer.create().uint32(10).string(any.type_url).uint32(18).bytes(any.value).finish();
}

/** Encode a Delta `Resource` (version = 1, resource = 2, name = 3). */
export function encodeDeltaResource(name: string, version: string, anyBytes: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32(10).string(version).uint32(18).bytes(anyBytes).uint32(26).string(name).finish();
}

export function decodeAny<T = Record<string, unknown>>(any: { type_url: string; value: Uint8Array }): T {
  const type = messageType(any.type_url.slice(any.type_url.lastIndexOf('/') + 1));
  return type.toObject(type.decode(any.value), { longs: String, enums: String, defaults: false }) as T;
}

/** Decode an encoded `google.protobuf.Any` (as held by snapshot entries) into its message object. */
export function decodeAnyBytes<T = Record<string, unknown>>(bytes: Uint8Array): T {
  const any = messageType('google.protobuf.Any').decode(bytes) as unknown as { type_url: string; value: Uint8Array };
  return decodeAny<T>(any);
}
