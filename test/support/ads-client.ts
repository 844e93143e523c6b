import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeAny, protoIncludeDirs } from '../../src/xds/protos.js';

/** A small, explicit ADS client for protocol tests: it sends exactly what a test tells it to. */
export interface Received {
  typeUrl: string;
  version: string;
  nonce: string;
  /** Decoded resources (SotW) or Delta resources with name/version. */
  resources: Array<{ name: string; version?: string; message: Record<string, unknown> }>;
  removed: string[];
}

let ctor: grpc.ServiceClientConstructor | undefined;
function adsClientCtor(): grpc.ServiceClientConstructor {
  if (ctor) return ctor;
  const def = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: protoIncludeDirs(),
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  ctor = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
  return ctor;
}

const nameOf = (m: Record<string, unknown>): string => String(m.name ?? m.cluster_name ?? '');

export class AdsTestClient {
  readonly received: Received[] = [];
  readonly closed: Promise<grpc.StatusObject>;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;
  private waiters: Array<() => void> = [];
  private cursor = 0;

  constructor(
    port: number,
    readonly protocol: 'sotw' | 'delta',
    options: grpc.ChannelOptions = {},
    /** Call metadata (e.g. a proxy token) and channel credentials (TLS); default none / insecure. */
    extra: { metadata?: grpc.Metadata; credentials?: grpc.ChannelCredentials; host?: string } = {},
  ) {
    const Ctor = adsClientCtor();
    this.client = new Ctor(`${extra.host ?? '127.0.0.1'}:${port}`, extra.credentials ?? grpc.credentials.createInsecure(), options);
    const method = protocol === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    this.call = (this.client as unknown as Record<string, (md?: grpc.Metadata) => grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>>)[
      method
    ]!.call(this.client, extra.metadata ?? new grpc.Metadata());
    this.call.on('data', (msg: Record<string, unknown>) => {
      this.received.push(this.decode(msg));
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      this.call.on('status', (s: grpc.StatusObject) => {
        resolve(s);
        this.wake();
      });
      this.call.on('error', () => undefined);
    });
  }

  send(req: Record<string, unknown>): void {
    this.call.write(req);
  }

  /** Next response not yet consumed (optionally of one type), within a deadline. */
  async next(typeUrl?: string, timeoutMs = 5000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const r = this.received[this.cursor++]!;
        if (!typeUrl || r.typeUrl === typeUrl) return r;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${typeUrl ?? 'response'} within ${timeoutMs} ms (got ${this.received.map((r) => r.typeUrl.split('.').pop()).join(', ')})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Consumes every response up to the first one of `markerType` for which `match` holds: a positive marker the
   * test caused after the thing that must not happen. Returns the marker and the responses before it, so a test
   * asserts absence up to an event it waited for instead of over a quiet window.
   */
  async until(markerType: string, match: (r: Received) => boolean = () => true, timeoutMs = 5000): Promise<{ marker: Received; before: Received[] }> {
    const deadline = Date.now() + timeoutMs;
    const before: Received[] = [];
    for (;;) {
      const r = await this.next(undefined, Math.max(1, deadline - Date.now())).catch((err: Error) => {
        throw new Error(`${err.message}; waiting for a ${markerType} marker after ${before.map((b) => b.typeUrl.split('.').pop()).join(', ') || 'nothing'}`, {
          cause: err,
        });
      });
      if (r.typeUrl === markerType && match(r)) return { marker: r, before };
      before.push(r);
    }
  }

  /** Types of responses (short names) in `rs`, for assertions like `expect(types(before)).toEqual([])`. */
  static types(rs: Received[]): string[] {
    return rs.map((r) => r.typeUrl.split('.').pop() ?? r.typeUrl);
  }

  ack(r: Received, extra: Record<string, unknown> = {}): void {
    if (this.protocol === 'sotw') this.send({ type_url: r.typeUrl, version_info: r.version, response_nonce: r.nonce, ...extra });
    else this.send({ type_url: r.typeUrl, response_nonce: r.nonce, ...extra });
  }

  nack(r: Received, message: string, extra: Record<string, unknown> = {}): void {
    this.ack(r, { error_detail: { code: 3, message }, ...extra });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private decode(msg: Record<string, unknown>): Received {
    if (this.protocol === 'sotw') {
      const resources = ((msg.resources ?? []) as Array<{ type_url: string; value: Buffer }>).map((any) => {
        const message = decodeAny(any);
        return { name: nameOf(message), message };
      });
      return { typeUrl: String(msg.type_url), version: String(msg.version_info), nonce: String(msg.nonce), resources, removed: [] };
    }
    const resources = ((msg.resources ?? []) as Array<{ name: string; version: string; resource: { type_url: string; value: Buffer } }>).map((r) => ({
      name: r.name,
      version: r.version,
      message: decodeAny(r.resource),
    }));
    return {
      typeUrl: String(msg.type_url),
      version: String(msg.system_version_info),
      nonce: String(msg.nonce),
      resources,
      removed: (msg.removed_resources as string[] | undefined) ?? [],
    };
  }
}
