/**
 * ADS load client: N Envoy-like ADS streams (SotW or Delta) against one xDS server.
 *
 * Each stream has its own node id (`bench-<i>`) and behaves like Envoy does on start-up:
 *   1. subscribes wildcard to CDS and LDS,
 *   2. on a CDS response subscribes EDS to the cluster names it knows (re-subscribes when they change),
 *   3. on an LDS response subscribes RDS to `routeNames` (default `['local_route']`),
 *   4. ACKs every response (SotW: version_info + response_nonce + the same resource_names;
 *      Delta: response_nonce only).
 *
 * Streams are spread over `ceil(N / streamsPerChannel)` grpc channels; every channel gets a distinct channel
 * argument and `grpc.use_local_subchannel_pool`, so each one really is its own HTTP/2 connection.
 *
 * Bytes are counted by wrapping the response deserializer: `bytes` is the serialized protobuf size of each
 * response message (gRPC's 5-byte length prefix and HTTP/2 framing are not included).
 *
 * Times are epoch milliseconds with sub-millisecond precision (`now()`), so that a parent process can compare
 * them with its own clock after estimating the offset (see ads-load-remote.ts).
 *
 * Run standalone against any ADS server:
 *   tsx bench/ads-load.ts --address 127.0.0.1:18000 --streams 100 --mode delta
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export const TYPE = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;
export type ShortType = keyof typeof TYPE;
const SHORT_OF: Record<string, ShortType> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k as ShortType]));
const RESOURCE_WRAPPER_TYPE = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

export type Mode = 'sotw' | 'delta';
export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';

/** Wall-clock epoch milliseconds with monotonic sub-ms resolution. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------------------------------------------------------
// Protos (loaded from @grpc/grpc-js-xds's bundled copies, never copied)

const require = createRequire(import.meta.url);
const DEPS_DIR = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
export const INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(DEPS_DIR, d));

interface Any {
  type_url: string;
  value: Uint8Array;
}
interface NodeMsg {
  id: string;
  cluster: string;
  user_agent_name: string;
  user_agent_version: string;
}
interface DiscoveryRequest {
  version_info?: string;
  node?: NodeMsg;
  resource_names: string[];
  type_url: string;
  response_nonce?: string;
}
export interface DiscoveryResponse {
  version_info: string;
  resources: Any[];
  type_url: string;
  nonce: string;
}
interface DeltaDiscoveryRequest {
  node?: NodeMsg;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  response_nonce?: string;
}
export interface DeltaResource {
  name: string;
  version: string;
  resource: Any | null;
}
export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

interface MethodDef {
  path: string;
  requestSerialize: (value: unknown) => Buffer;
  responseDeserialize: (buf: Buffer) => unknown;
}
interface Codec {
  serialize: (value: unknown) => Buffer;
  deserialize: (buf: Buffer) => unknown;
}
interface Protos {
  sotw: MethodDef;
  delta: MethodDef;
  /** protobufjs codecs for the same messages: decode without toObject() (plain field access), far cheaper. */
  fast: { sotw: Codec; delta: Codec };
  decodeCla: (buf: Uint8Array) => ClusterLoadAssignment;
  decodeResourceWrapper: (buf: Uint8Array) => DeltaResource;
}

let protos: Protos | undefined;
export function loadProtos(): Protos {
  if (protos) return protos;
  const def = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: INCLUDE_DIRS,
  });
  const svc = def['envoy.service.discovery.v3.AggregatedDiscoveryService'] as unknown as Record<string, MethodDef> | undefined;
  const sotw = svc?.StreamAggregatedResources;
  const delta = svc?.DeltaAggregatedResources;
  if (!sotw || !delta) throw new Error('AggregatedDiscoveryService not found in ads.proto');

  // protobufjs for the resource payloads inside Any (proto-loader exposes no decoders for non-service messages).
  // Same registration @grpc/proto-loader does: envoy's protos import google/protobuf/descriptor.proto.
  const descriptorJson = require('protobufjs/google/protobuf/descriptor.json') as {
    nested: { google: { nested: { protobuf: { nested: Record<string, protobuf.AnyNestedObject> } } } };
  };
  protobuf.common('descriptor', descriptorJson.nested.google.nested.protobuf.nested);
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (target.startsWith('google/protobuf/')) return target; // protobufjs' bundled well-known types
    for (const dir of INCLUDE_DIRS) {
      const p = path.join(dir, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  root.loadSync(['envoy/config/endpoint/v3/endpoint.proto', 'envoy/service/discovery/v3/discovery.proto'], { keepCase: true });
  root.resolveAll();
  const claType = root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment');
  const resType = root.lookupType('envoy.service.discovery.v3.Resource');
  const toObj = { enums: String, longs: String, bytes: Buffer } as protobuf.IConversionOptions;
  const codec = (req: string, res: string): Codec => {
    const reqType = root.lookupType(`envoy.service.discovery.v3.${req}`);
    const resType = root.lookupType(`envoy.service.discovery.v3.${res}`);
    return {
      serialize: (value) => {
        const u8 = reqType.encode(value as protobuf.Message).finish();
        return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
      },
      deserialize: (buf) => resType.decode(buf),
    };
  };
  protos = {
    sotw,
    delta,
    fast: { sotw: codec('DiscoveryRequest', 'DiscoveryResponse'), delta: codec('DeltaDiscoveryRequest', 'DeltaDiscoveryResponse') },
    decodeCla: (buf) => claType.toObject(claType.decode(buf), toObj) as ClusterLoadAssignment,
    decodeResourceWrapper: (buf) => {
      const r = resType.toObject(resType.decode(buf), toObj) as Partial<DeltaResource>;
      return { name: r.name ?? '', version: r.version ?? '', resource: r.resource ?? null };
    },
  };
  return protos;
}

/** Field 1 of Cluster, Listener, RouteConfiguration (name) and ClusterLoadAssignment (cluster_name) is the name. */
export function resourceNameOf(buf: Uint8Array): string {
  const r = protobuf.Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) return r.string();
    r.skipType(tag & 7);
  }
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// Decoded ClusterLoadAssignment (only what the bench looks at)

export interface LbEndpoint {
  endpoint?: { address?: { socket_address?: { address?: string; port_value?: number } } };
  health_status?: HealthStatus;
  load_balancing_weight?: { value?: number };
}
export interface ClusterLoadAssignment {
  cluster_name?: string;
  endpoints?: Array<{ lb_endpoints?: LbEndpoint[] }>;
}

export interface EndpointView {
  address: string;
  port: number;
  weight: number;
  health: HealthStatus;
}

export function endpointsOf(cla: ClusterLoadAssignment): EndpointView[] {
  const out: EndpointView[] = [];
  for (const locality of cla.endpoints ?? []) {
    for (const lb of locality.lb_endpoints ?? []) {
      const sa = lb.endpoint?.address?.socket_address;
      out.push({
        address: sa?.address ?? '',
        port: sa?.port_value ?? 0,
        weight: lb.load_balancing_weight?.value ?? 1, // unset means 1 to Envoy
        health: lb.health_status ?? 'UNKNOWN',
      });
    }
  }
  return out;
}

/** What a stream must see in an EDS response for an endpoint change to count as received. */
export interface EndpointWatch {
  cluster: string;
  port: number;
  address?: string;
  weight?: number;
  health?: HealthStatus;
  /**
   * Count the change as received when the endpoint is absent from the cluster's assignment (for servers that
   * leave non-serving endpoints out instead of marking them). Default false.
   */
  absentMatches?: boolean;
}

export type EndpointMatch = 'present' | 'absent';

export function matchEndpoint(cla: ClusterLoadAssignment, w: EndpointWatch): EndpointMatch | undefined {
  const ep = endpointsOf(cla).find((e) => e.port === w.port && (w.address === undefined || e.address === w.address));
  if (!ep) return w.absentMatches ? 'absent' : undefined;
  if (w.weight !== undefined && ep.weight !== w.weight) return undefined;
  if (w.health !== undefined && ep.health !== w.health) return undefined;
  return 'present';
}

// ---------------------------------------------------------------------------------------------------------------
// Load client

export interface AdsLoadOptions {
  address: string;
  mode: Mode;
  streams: number;
  /** Default 100. */
  streamsPerChannel?: number;
  /** RDS names to subscribe to once a listener arrives. Default ['local_route']. */
  routeNames?: string[];
  /** Send `node` on every request instead of only the first one of a stream. Default false. */
  nodeOnEveryRequest?: boolean;
  /** Keep every response's arrival time, type and size per stream (`history()`). Default true. */
  keepHistory?: boolean;
  nodeIdPrefix?: string;
  /**
   * 'fast' (default): protobufjs encode/decode of the same messages (no toObject conversion), so that the load
   * client stays cheap next to the server; 'proto-loader': the service's own (de)serializers from @grpc/proto-loader.
   */
  codec?: 'fast' | 'proto-loader';
}

/** One response as seen by a stream, handed to `waitFor` predicates. */
export interface ResponseEvent {
  stream: number;
  nodeId: string;
  t: number;
  bytes: number;
  type: ShortType | undefined;
  typeUrl: string;
  /** SotW: version_info; Delta: system_version_info. */
  version: string;
  nonce: string;
  /** Names of the resources carried by the response (decoded from the payload for SotW). */
  names: string[];
  removed: string[];
  /** Serialized resources by name. */
  resources: Map<string, Uint8Array>;
  /** For EDS responses: the decoded assignment for a cluster (decoded on demand, cached by content). */
  cla(name: string): ClusterLoadAssignment | undefined;
}

export interface WaitResult {
  /** Per stream: arrival time (epoch ms, load-client clock) of the first matching response, or null. */
  arrivals: Array<number | null>;
  matched: number;
  missing: number;
  startedAt: number;
  endedAt: number;
  /** For `waitForEndpoint`: how many streams matched with the endpoint present / absent. */
  how?: Record<EndpointMatch, number>;
}

interface TypeState {
  subscribed: string[];
  version: string;
  nonce: string;
  responses: number;
  received: Set<string>;
  requested: boolean;
}

interface StreamState {
  index: number;
  nodeId: string;
  call: grpc.ClientDuplexStream<unknown, unknown> | undefined;
  startedAt: number;
  syncedAt: number | null;
  ended: { code: number; details: string; at: number } | null;
  sentFirst: boolean;
  bytes: number;
  responses: number;
  pending: Array<{ size: number; t: number }>;
  types: Record<ShortType, TypeState>;
  clusters: Set<string>;
  anomalies: string[];
  lastRequests: Array<{ t: number; req: unknown }>;
  lastResponses: ResponseEvent[];
  histT: number[];
  histType: string[];
  histBytes: number[];
}

interface Watch {
  predicate: (ev: ResponseEvent) => boolean | EndpointMatch | undefined;
  arrivals: Array<number | null>;
  how: Record<EndpointMatch, number>;
  remaining: number;
  startedAt: number;
  done: (r: WaitResult) => void;
  timer: NodeJS.Timeout;
}

export interface Counters {
  bytes: number;
  responses: number;
  byType: Record<string, { bytes: number; responses: number }>;
  ended: number;
}

export interface StreamDiagnostic {
  stream: number;
  nodeId: string;
  synced: boolean;
  ended: StreamState['ended'];
  types: Record<string, { requested: boolean; subscribed: string[]; responses: number; version: string; nonce: string; received: string[] }>;
  anomalies: string[];
  lastRequests: Array<{ t: number; req: unknown }>;
  lastResponses: Array<{ t: number; summary: string }>;
}

const KEEP_LAST = 8;

export class AdsLoadClient {
  readonly opts: Required<AdsLoadOptions>;
  private readonly protos = loadProtos();
  private readonly clients: grpc.Client[] = [];
  private readonly st: StreamState[] = [];
  private readonly watches = new Set<Watch>();
  private readonly lastCla: Array<Map<string, Uint8Array>> = [];
  private claCache = new Map<string, ClusterLoadAssignment>();
  private readonly byType: Record<string, { bytes: number; responses: number }> = {};
  private syncWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private unsynced = 0;
  private closing = false;

  constructor(opts: AdsLoadOptions) {
    this.opts = {
      streamsPerChannel: 100,
      routeNames: ['local_route'],
      nodeOnEveryRequest: false,
      keepHistory: true,
      nodeIdPrefix: 'bench-',
      codec: 'fast',
      ...opts,
    };
  }

  get channelCount(): number {
    return this.clients.length;
  }

  /**
   * Open every stream; resolves once every stream has received CDS, LDS, EDS for all its clusters and RDS for
   * all route names. Rejects on deadline, or as soon as a stream ends before syncing (with diagnostics).
   */
  open(timeoutMs = 60_000): Promise<void> {
    const { streams, streamsPerChannel, address } = this.opts;
    const channels = Math.max(1, Math.ceil(streams / streamsPerChannel));
    for (let c = 0; c < channels; c++) {
      this.clients.push(
        new grpc.Client(address, grpc.credentials.createInsecure(), {
          'grpc.use_local_subchannel_pool': 1,
          'healthmesh.bench.channel_index': c, // distinct args => distinct subchannel => distinct connection
          'grpc.max_receive_message_length': 256 * 1024 * 1024,
          'grpc.max_send_message_length': 64 * 1024 * 1024,
          'grpc.enable_retries': 0, // no retry buffering of ACKs: keep the client cheap
        }),
      );
    }
    this.unsynced = streams;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.syncWaiter = undefined;
        reject(new SyncError(`${this.unsynced}/${streams} streams not synced after ${timeoutMs} ms`, this.diagnose()));
      }, timeoutMs);
      this.syncWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
    for (let i = 0; i < streams; i++) this.startStream(i, this.clients[Math.floor(i / streamsPerChannel)]!);
    if (this.unsynced === 0) this.syncWaiter?.resolve();
    return done;
  }

  /** Per-stream sync durations (ms from the stream's start), null for streams that never synced. */
  syncDurations(): Array<number | null> {
    return this.st.map((s) => (s.syncedAt === null ? null : s.syncedAt - s.startedAt));
  }

  startedAt(): number {
    return Math.min(...this.st.map((s) => s.startedAt));
  }

  /**
   * For every stream, wait for the first response (arriving after this call) that satisfies `predicate`.
   * Resolves when every open stream matched, or at the deadline with `missing > 0` (never rejects).
   */
  waitFor(predicate: (ev: ResponseEvent) => boolean | EndpointMatch | undefined, timeoutMs: number): Promise<WaitResult> {
    return new Promise((resolve) => {
      const w: Watch = {
        predicate,
        arrivals: this.st.map(() => null),
        how: { present: 0, absent: 0 },
        remaining: this.st.filter((s) => !s.ended).length,
        startedAt: now(),
        done: (r) => resolve(r),
        timer: setTimeout(() => this.finishWatch(w), timeoutMs),
      };
      this.watches.add(w);
      if (w.remaining === 0) this.finishWatch(w);
    });
  }

  /** Wait until every stream received an EDS response in which the watched endpoint has the given state. */
  waitForEndpoint(watch: EndpointWatch, timeoutMs: number): Promise<WaitResult> {
    return this.waitFor((ev) => {
      const cla = ev.type === 'EDS' ? ev.cla(watch.cluster) : undefined;
      return cla ? matchEndpoint(cla, watch) : undefined;
    }, timeoutMs);
  }

  counters(): Counters {
    let bytes = 0;
    let responses = 0;
    let ended = 0;
    for (const s of this.st) {
      bytes += s.bytes;
      responses += s.responses;
      if (s.ended) ended++;
    }
    return { bytes, responses, byType: structuredClone(this.byType), ended };
  }

  /** Arrival time, type and size of every response, per stream. */
  history(): Array<{ nodeId: string; t: number[]; type: string[]; bytes: number[] }> {
    return this.st.map((s) => ({ nodeId: s.nodeId, t: s.histT, type: s.histType, bytes: s.histBytes }));
  }

  /** Latest EDS assignment a stream holds per cluster (for diagnostics). */
  lastAssignments(stream: number): Map<string, ClusterLoadAssignment> {
    return new Map([...(this.lastCla[stream] ?? [])].map(([k, v]) => [k, this.decodeCla(v)]));
  }

  private readonly claDecoder = (bytes: Uint8Array): ClusterLoadAssignment => this.decodeCla(bytes);

  /** Every stream gets the same bytes for the same assignment: decode each distinct payload once. */
  private decodeCla(bytes: Uint8Array): ClusterLoadAssignment {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    let cla = this.claCache.get(key);
    if (!cla) {
      if (this.claCache.size >= 1024) this.claCache = new Map();
      cla = this.protos.decodeCla(bytes);
      this.claCache.set(key, cla);
    }
    return cla;
  }

  /** Diagnostics for up to `limit` streams, unsynced or ended streams first. */
  diagnose(limit = 3): StreamDiagnostic[] {
    const interesting = [...this.st].sort((a, b) => score(b) - score(a)).slice(0, limit);
    return interesting.map((s) => this.diagnoseStream(s));
    function score(s: StreamState): number {
      return (s.ended ? 2 : 0) + (s.syncedAt === null ? 1 : 0);
    }
  }

  diagnoseStream(s: StreamState | number): StreamDiagnostic {
    const st = typeof s === 'number' ? this.st[s]! : s;
    const types: StreamDiagnostic['types'] = {};
    for (const [k, v] of Object.entries(st.types)) {
      types[k] = { requested: v.requested, subscribed: v.subscribed, responses: v.responses, version: v.version, nonce: v.nonce, received: [...v.received] };
    }
    const lastResponses = st.lastResponses.map((ev) => ({
      t: ev.t,
      summary: `${ev.type ?? ev.typeUrl} v=${ev.version} nonce=${ev.nonce} bytes=${ev.bytes} resources=[${ev.names.join(',')}]${ev.removed.length ? ` removed=[${ev.removed.join(',')}]` : ''}`,
    }));
    return {
      stream: st.index,
      nodeId: st.nodeId,
      synced: st.syncedAt !== null,
      ended: st.ended,
      types,
      anomalies: st.anomalies.slice(0, 20),
      lastRequests: st.lastRequests,
      lastResponses,
    };
  }

  /** Count of unsynced / ended streams and how many streams got at least one response per type. */
  summary(): { streams: number; synced: number; ended: number; gotType: Record<ShortType, number>; endCodes: Record<string, number> } {
    const gotType: Record<ShortType, number> = { CDS: 0, EDS: 0, LDS: 0, RDS: 0 };
    const endCodes: Record<string, number> = {};
    let synced = 0;
    let ended = 0;
    for (const s of this.st) {
      if (s.syncedAt !== null) synced++;
      if (s.ended) {
        ended++;
        const k = `${grpc.status[s.ended.code] ?? s.ended.code}: ${s.ended.details}`;
        endCodes[k] = (endCodes[k] ?? 0) + 1;
      }
      for (const t of Object.keys(gotType) as ShortType[]) if (s.types[t].responses > 0) gotType[t]++;
    }
    return { streams: this.st.length, synced, ended, gotType, endCodes };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of [...this.watches]) this.finishWatch(w);
    for (const s of this.st) {
      try {
        s.call?.end();
        s.call?.cancel();
      } catch {
        /* already gone */
      }
    }
    for (const c of this.clients) c.close();
    await new Promise((r) => setImmediate(r));
  }

  // -------------------------------------------------------------------------------------------------------------

  private startStream(i: number, client: grpc.Client): void {
    const mkType = (): TypeState => ({ subscribed: [], version: '', nonce: '', responses: 0, received: new Set(), requested: false });
    const s: StreamState = {
      index: i,
      nodeId: `${this.opts.nodeIdPrefix}${i}`,
      call: undefined,
      startedAt: now(),
      syncedAt: null,
      ended: null,
      sentFirst: false,
      bytes: 0,
      responses: 0,
      pending: [],
      types: { CDS: mkType(), EDS: mkType(), LDS: mkType(), RDS: mkType() },
      clusters: new Set(),
      anomalies: [],
      lastRequests: [],
      lastResponses: [],
      histT: [],
      histType: [],
      histBytes: [],
    };
    this.st.push(s);
    this.lastCla.push(new Map());
    const method = this.opts.mode === 'sotw' ? this.protos.sotw : this.protos.delta;
    const fast = this.opts.mode === 'sotw' ? this.protos.fast.sotw : this.protos.fast.delta;
    const [serialize, inner] = this.opts.codec === 'fast' ? [fast.serialize, fast.deserialize] : [method.requestSerialize, method.responseDeserialize];
    const deserialize = (buf: Buffer): unknown => {
      s.pending.push({ size: buf.length, t: now() });
      return inner(buf);
    };
    const call = client.makeBidiStreamRequest<unknown, unknown>(method.path, serialize, deserialize, new grpc.Metadata(), {});
    s.call = call;
    call.on('data', (msg: unknown) => this.onResponse(s, msg));
    call.on('error', (err: grpc.ServiceError) => this.onEnd(s, err.code ?? grpc.status.UNKNOWN, err.details ?? err.message));
    call.on('status', (st: grpc.StatusObject) => this.onEnd(s, st.code, st.details || (st.code === grpc.status.OK ? 'server closed the stream' : '')));

    // Envoy: wildcard CDS and LDS first; EDS/RDS follow the responses.
    this.request(s, 'CDS', []);
    this.request(s, 'LDS', []);
  }

  private node(s: StreamState): NodeMsg | undefined {
    if (s.sentFirst && !this.opts.nodeOnEveryRequest) return undefined;
    s.sentFirst = true;
    return { id: s.nodeId, cluster: 'healthmesh-bench', user_agent_name: 'healthmesh-bench', user_agent_version: '0' };
  }

  private write(s: StreamState, req: DiscoveryRequest | DeltaDiscoveryRequest): void {
    if (!s.call || s.ended) return;
    s.lastRequests.push({ t: now(), req });
    if (s.lastRequests.length > KEEP_LAST) s.lastRequests.shift();
    s.call.write(req);
  }

  /** A (re)subscription: SotW sends the full name list, Delta the difference. */
  private request(s: StreamState, type: ShortType, names: string[]): void {
    const ts = s.types[type];
    const typeUrl = TYPE[type];
    if (this.opts.mode === 'sotw') {
      ts.subscribed = names;
      ts.requested = true;
      this.write(s, { node: this.node(s), type_url: typeUrl, resource_names: names, version_info: ts.version, response_nonce: ts.nonce });
      return;
    }
    const prev = new Set(ts.subscribed);
    const next = new Set(names);
    const subscribe = names.filter((n) => !prev.has(n));
    const unsubscribe = ts.subscribed.filter((n) => !next.has(n));
    if (ts.requested && subscribe.length === 0 && unsubscribe.length === 0) return;
    ts.subscribed = names;
    ts.requested = true;
    this.write(s, { node: this.node(s), type_url: typeUrl, resource_names_subscribe: subscribe, resource_names_unsubscribe: unsubscribe });
  }

  private onResponse(s: StreamState, msg: unknown): void {
    const p = s.pending.shift();
    const t = p?.t ?? now();
    const size = p?.size ?? 0;
    s.bytes += size;
    s.responses++;
    const delta = this.opts.mode === 'delta';
    const typeUrl = (msg as { type_url: string }).type_url;
    const type = SHORT_OF[typeUrl];
    const agg = (this.byType[type ?? typeUrl] ??= { bytes: 0, responses: 0 });
    agg.bytes += size;
    agg.responses++;
    if (this.opts.keepHistory) {
      s.histT.push(t);
      s.histType.push(type ?? typeUrl);
      s.histBytes.push(size);
    }

    const ev = new Event(s.index, s.nodeId, t, size, type, typeUrl, this.claDecoder);
    if (delta) {
      const r = msg as DeltaDiscoveryResponse;
      ev.version = r.system_version_info;
      ev.nonce = r.nonce;
      ev.removed = r.removed_resources;
      for (const res of r.resources) this.addResource(s, ev, res.name, res.resource);
    } else {
      const r = msg as DiscoveryResponse;
      ev.version = r.version_info;
      ev.nonce = r.nonce;
      for (const any of r.resources) this.addResource(s, ev, '', any);
    }
    s.lastResponses.push(ev);
    if (s.lastResponses.length > KEEP_LAST) s.lastResponses.shift();

    if (!type) {
      this.anomaly(s, `response for unknown type ${typeUrl}`);
    } else {
      const ts = s.types[type];
      if (!ts.requested) this.anomaly(s, `unsolicited ${type} response (nonce ${ev.nonce})`);
      ts.responses++;
      ts.version = ev.version;
      ts.nonce = ev.nonce;
      for (const n of ev.names) ts.received.add(n);
      for (const n of ev.removed) ts.received.delete(n);
      this.react(s, type, ev);
    }

    for (const w of this.watches) {
      if (w.arrivals[s.index] !== null) continue;
      const m = w.predicate(ev);
      if (m) {
        w.arrivals[s.index] = t;
        if (m === 'present' || m === 'absent') w.how[m]++;
        if (--w.remaining === 0) this.finishWatch(w);
      }
    }
    this.checkSynced(s);
  }

  private addResource(s: StreamState, ev: Event, name: string, any: Any | null): void {
    const { type, typeUrl } = ev;
    if (any && any.type_url === RESOURCE_WRAPPER_TYPE) {
      const inner = this.protos.decodeResourceWrapper(any.value);
      any = inner.resource;
      name ||= inner.name;
    }
    if (any && any.type_url !== typeUrl) this.anomaly(s, `${type ?? typeUrl} response carries a resource of type ${any.type_url}`);
    if (!name && any) name = resourceNameOf(any.value);
    ev.names.push(name);
    if (any) {
      ev.resources.set(name, any.value);
      if (type === 'EDS') {
        if (this.opts.mode === 'delta' && resourceNameOf(any.value) !== name)
          this.anomaly(s, `EDS resource "${name}" has cluster_name "${resourceNameOf(any.value)}"`);
        this.lastCla[s.index]!.set(name, any.value);
      }
    }
  }

  /** Follow-up subscriptions, then the ACK (the order Envoy uses). */
  private react(s: StreamState, type: ShortType, ev: ResponseEvent): void {
    const delta = this.opts.mode === 'delta';
    if (type === 'CDS') {
      if (delta) {
        for (const n of ev.names) s.clusters.add(n);
        for (const n of ev.removed) s.clusters.delete(n);
      } else {
        s.clusters = new Set(ev.names);
      }
      const names = [...s.clusters].sort();
      const eds = s.types.EDS;
      // Never send an empty first EDS request: both protocols would read it as a wildcard subscription.
      if ((eds.requested || names.length > 0) && (!eds.requested || names.join('\0') !== eds.subscribed.join('\0'))) this.request(s, 'EDS', names);
    } else if (type === 'LDS') {
      if (!s.types.RDS.requested && this.opts.routeNames.length > 0) this.request(s, 'RDS', [...this.opts.routeNames]);
    }
    if (delta) {
      this.write(s, { type_url: TYPE[type], response_nonce: ev.nonce, ...(this.opts.nodeOnEveryRequest ? { node: this.node(s) } : {}) });
    } else {
      const ts = s.types[type];
      this.write(s, { node: this.node(s), type_url: TYPE[type], version_info: ev.version, response_nonce: ev.nonce, resource_names: ts.subscribed });
    }
  }

  private checkSynced(s: StreamState): void {
    if (s.syncedAt !== null) return;
    const { CDS, LDS, EDS, RDS } = s.types;
    if (CDS.responses === 0 || LDS.responses === 0) return;
    for (const c of s.clusters) if (!EDS.received.has(c)) return;
    for (const r of this.opts.routeNames) if (!RDS.received.has(r)) return;
    s.syncedAt = now();
    if (--this.unsynced === 0) this.syncWaiter?.resolve();
  }

  private onEnd(s: StreamState, code: number, details: string): void {
    if (s.ended) return;
    s.ended = { code, details, at: now() };
    if (this.closing) return;
    if (s.syncedAt === null && this.syncWaiter) {
      const w = this.syncWaiter;
      this.syncWaiter = undefined;
      w.reject(
        new SyncError(`stream ${s.nodeId} ended before syncing: ${grpc.status[code] ?? code} ${details}`, [
          this.diagnoseStream(s),
          ...this.diagnose(3)
            .filter((d) => d.stream !== s.index)
            .slice(0, 2),
        ]),
      );
    }
    // An ended stream can never match a pending watch.
    for (const w of this.watches) {
      if (w.arrivals[s.index] === null && --w.remaining === 0) this.finishWatch(w);
    }
  }

  private anomaly(s: StreamState, what: string): void {
    if (s.anomalies.length < 50) s.anomalies.push(`${(now() - s.startedAt).toFixed(1)}ms: ${what}`);
  }

  private finishWatch(w: Watch): void {
    if (!this.watches.delete(w)) return;
    clearTimeout(w.timer);
    const matched = w.arrivals.filter((a) => a !== null).length;
    w.done({ arrivals: w.arrivals, matched, missing: w.arrivals.length - matched, startedAt: w.startedAt, endedAt: now(), how: w.how });
  }
}

class Event implements ResponseEvent {
  version = '';
  nonce = '';
  names: string[] = [];
  removed: string[] = [];
  readonly resources = new Map<string, Uint8Array>();
  constructor(
    readonly stream: number,
    readonly nodeId: string,
    readonly t: number,
    readonly bytes: number,
    readonly type: ShortType | undefined,
    readonly typeUrl: string,
    private readonly decode: (b: Uint8Array) => ClusterLoadAssignment,
  ) {}

  cla(name: string): ClusterLoadAssignment | undefined {
    const b = this.type === 'EDS' ? this.resources.get(name) : undefined;
    return b ? this.decode(b) : undefined;
  }
}

export class SyncError extends Error {
  constructor(
    message: string,
    readonly diagnostics: StreamDiagnostic[],
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Standalone use: tsx bench/ads-load.ts --address host:port --streams N --mode sotw|delta

async function main(): Promise<void> {
  const { Command } = await import('commander');
  const cmd = new Command('ads-load')
    .requiredOption('--address <host:port>', 'ADS server address')
    .option('--streams <n>', 'number of streams', '100')
    .option('--mode <mode>', 'sotw or delta', 'sotw')
    .option('--streams-per-channel <n>', 'streams per grpc channel', '100')
    .option('--routes <names>', 'comma-separated RDS names', 'local_route')
    .option('--codec <codec>', 'fast or proto-loader', 'fast')
    .option('--timeout-ms <ms>', 'initial sync deadline', '60000')
    .option('--hold <seconds>', 'keep the streams open this long after syncing, printing counters', '0')
    .parse();
  const o = cmd.opts<{
    address: string;
    streams: string;
    mode: string;
    streamsPerChannel: string;
    routes: string;
    timeoutMs: string;
    hold: string;
    codec: string;
  }>();
  if (o.mode !== 'sotw' && o.mode !== 'delta') throw new Error('--mode must be sotw or delta');
  const client = new AdsLoadClient({
    address: o.address,
    mode: o.mode,
    streams: Number(o.streams),
    streamsPerChannel: Number(o.streamsPerChannel),
    routeNames: o.routes.split(',').filter(Boolean),
    codec: o.codec === 'proto-loader' ? 'proto-loader' : 'fast',
  });
  const t0 = now();
  try {
    await client.open(Number(o.timeoutMs));
  } catch (err) {
    console.error(String(err));
    if (err instanceof SyncError) console.error(JSON.stringify(err.diagnostics, null, 2));
    console.error(JSON.stringify(client.summary()));
    await client.close();
    process.exitCode = 1;
    return;
  }
  console.log(`${o.streams} ${o.mode} streams over ${client.channelCount} channels synced in ${(now() - t0).toFixed(1)} ms`, client.counters());
  const holdMs = Number(o.hold) * 1000;
  const end = now() + holdMs;
  while (now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(1000, end - now())));
    console.log(JSON.stringify({ ...client.counters(), ...client.summary() }));
  }
  await client.close();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
