import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { bounded } from './outcome.js';
import type { CheckResult, CheckTarget, RunCheckOptions, Verdict } from './types.js';

const require = createRequire(import.meta.url);

/** The health proto shipped by the `grpc-health-check` package (not copied here). */
export const HEALTH_PROTO_PATH = require.resolve('grpc-health-check/proto/health/v1/health.proto');

interface HealthCheckRequest {
  service: string;
}
interface HealthCheckResponse {
  status?: string;
}

export interface GrpcProbeTarget extends CheckTarget {
  /** The name the target stands for: sent as :authority. */
  hostname?: string;
}

export interface GrpcCheckerOptions {
  /** Channels unused this long are closed (swept at most once a minute). Default 5 min. */
  idleChannelMs?: number;
  now?: () => number;
}

interface CachedChannel {
  client: grpc.Client;
  lastUsed: number;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * `grpc.health.v1.Health/Check` probes over one cached channel per target. SERVING passes;
 * NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN and RPC errors fail with what was seen. A channel that
 * failed to connect is dropped so the next probe dials afresh instead of waiting out grpc-js's
 * reconnect backoff.
 */
export class GrpcChecker {
  private readonly method: protoLoader.MethodDefinition<HealthCheckRequest, HealthCheckResponse>;
  private readonly channels = new Map<string, CachedChannel>();
  private readonly idleChannelMs: number;
  private readonly now: () => number;
  private lastSweep: number;
  private closed = false;

  constructor(opts: GrpcCheckerOptions = {}) {
    const def = protoLoader.loadSync(HEALTH_PROTO_PATH, { keepCase: true, enums: String, defaults: true, longs: String });
    const service = def['grpc.health.v1.Health'] as protoLoader.ServiceDefinition | undefined;
    const check = service?.Check;
    if (!check) throw new Error(`grpc.health.v1.Health/Check not found in ${HEALTH_PROTO_PATH}`);
    this.method = check as protoLoader.MethodDefinition<HealthCheckRequest, HealthCheckResponse>;
    this.idleChannelMs = opts.idleChannelMs ?? 300_000;
    this.now = opts.now ?? (() => Date.now());
    this.lastSweep = this.now();
  }

  run(target: GrpcProbeTarget, service: string, opts: RunCheckOptions): Promise<CheckResult> {
    return bounded(opts, (signal) => this.probe(target, service, signal, opts.timeoutMs));
  }

  probe(target: GrpcProbeTarget, service: string, signal: AbortSignal, timeoutMs: number): Promise<Verdict> {
    if (this.closed) return Promise.resolve({ ok: false, detail: 'checker closed' });
    const { key, client } = this.channelFor(target);
    const m = this.method;
    return new Promise<Verdict>((resolve) => {
      const call = client.makeUnaryRequest<HealthCheckRequest, HealthCheckResponse>(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        { service },
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          signal.removeEventListener('abort', onAbort);
          if (err) {
            if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) this.drop(key, client);
            resolve({ ok: false, detail: `gRPC ${grpc.status[err.code] ?? err.code}${err.details ? `: ${err.details}` : ''}` });
            return;
          }
          const status = res?.status ?? 'UNKNOWN';
          resolve({ ok: status === 'SERVING', detail: status });
        },
      );
      const onAbort = (): void => call.cancel();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes every cached channel. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    for (const { client } of this.channels.values()) client.close();
    this.channels.clear();
    return Promise.resolve();
  }

  /** Number of cached channels (for tests and metrics). */
  get channelCount(): number {
    return this.channels.size;
  }

  private channelFor(target: GrpcProbeTarget): { key: string; client: grpc.Client } {
    const host = isIP(target.address) === 6 ? `[${target.address}]` : target.address;
    const address = `${host}:${target.port}`;
    const key = target.hostname ? `${address}|${target.hostname}` : address;
    const now = this.now();
    this.sweep(now);
    let entry = this.channels.get(key);
    if (!entry) {
      const options: grpc.ChannelOptions = {};
      if (target.hostname) options['grpc.default_authority'] = `${target.hostname}:${target.port}`;
      entry = { client: new grpc.Client(address, grpc.credentials.createInsecure(), options), lastUsed: now };
      this.channels.set(key, entry);
    }
    entry.lastUsed = now;
    return { key, client: entry.client };
  }

  private drop(key: string, client: grpc.Client): void {
    if (this.channels.get(key)?.client !== client) return;
    this.channels.delete(key);
    client.close();
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, { client, lastUsed }] of this.channels) {
      if (now - lastUsed > this.idleChannelMs) {
        this.channels.delete(key);
        client.close();
      }
    }
  }
}
