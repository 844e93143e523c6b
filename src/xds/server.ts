import { Server, type Metadata, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { serverCredentials, warnIfExposedPlaintext } from '../auth/tls.js';
import type { XdsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { LogThrottle } from '../log-throttle.js';
import type { SnapshotCache } from './cache.js';
import type { Ledger } from './ledger.js';
import { AdsSession, type ClientLogs, type Protocol } from './session.js';
import { adsService, type DeltaRequest, type DeltaResponse, type Malformed, type SotwRequest, type SotwResponse } from './wire.js';

export interface XdsServerOptions {
  config: Pick<
    XdsConfig,
    | 'listen'
    | 'maxReceiveMessageBytes'
    | 'maxSendMessageBytes'
    | 'stuckStreamTimeoutMs'
    | 'maxNacksPerMinute'
    | 'maxSubscriptionsPerStream'
    | 'maxNodeIdBytes'
    | 'maxErrorDetailBytes'
    | 'clientLogWindowMs'
    | 'clientLogBurst'
    | 'tls'
  >;
  /** Decides whether an ADS stream may open from its call metadata (e.g. a proxy token); a status refuses it. */
  admitAds?: (metadata: Metadata) => Pick<StatusObject, 'code' | 'details'> | undefined;
  cache: SnapshotCache;
  ledger: Ledger;
  logger: Logger;
  /** Extra services to serve on the same port (e.g. LRS, status) added by the composition root. */
  extend?: (server: Server) => void;
}

type Stream = ServerDuplexStream<SotwRequest | DeltaRequest | Malformed, SotwResponse | DeltaResponse>;

/** The gRPC ADS server: State-of-the-World and Delta over one port. */
export class XdsServer {
  private server: Server | undefined;
  private readonly sessions = new Set<AdsSession>();
  private port = 0;
  private readonly logs: ClientLogs;

  constructor(private readonly opts: XdsServerOptions) {
    const { clientLogWindowMs: every, clientLogBurst: burst } = opts.config;
    const throttle = (): LogThrottle => new LogThrottle(opts.logger, every, Date.now, burst);
    this.logs = { nack: throttle(), unknownType: throttle(), rejected: throttle(), connection: throttle() };
  }

  async start(): Promise<{ port: number }> {
    if (this.server) return { port: this.port };
    const server = new Server({
      'grpc.max_receive_message_length': this.opts.config.maxReceiveMessageBytes,
      'grpc.max_send_message_length': this.opts.config.maxSendMessageBytes,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      'grpc.max_concurrent_streams': 100_000,
    });
    server.addService(adsService, {
      StreamAggregatedResources: (call: Stream) => this.open(call, 'sotw'),
      DeltaAggregatedResources: (call: Stream) => this.open(call, 'delta'),
    });
    this.opts.extend?.(server);
    const { listen, tls } = this.opts.config;
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(listen, serverCredentials(tls), (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.server = server;
    const security = tls ? (tls.clientCa ? 'mTLS' : 'TLS') : 'plaintext';
    this.opts.logger.info({ address: listen, port: this.port, security }, 'xDS server listening');
    warnIfExposedPlaintext(listen, tls, this.opts.logger, 'the xDS/gRPC port');
    return { port: this.port };
  }

  streamCount(): number {
    return this.sessions.size;
  }

  private open(call: Stream, protocol: Protocol): void {
    const refused = this.opts.admitAds?.(call.metadata);
    if (refused) {
      this.logs.rejected.warn({ peer: call.getPeer(), code: refused.code, details: refused.details }, 'ADS stream refused');
      call.emit('error', Object.assign(new Error(refused.details), refused));
      return;
    }
    const session = new AdsSession(call, protocol, {
      cache: this.opts.cache,
      ledger: this.opts.ledger,
      logger: this.opts.logger,
      logs: this.logs,
      stuckStreamTimeoutMs: this.opts.config.stuckStreamTimeoutMs,
      maxNacksPerMinute: this.opts.config.maxNacksPerMinute,
      maxSubscriptionsPerStream: this.opts.config.maxSubscriptionsPerStream,
      maxNodeIdBytes: this.opts.config.maxNodeIdBytes,
      maxErrorDetailBytes: this.opts.config.maxErrorDetailBytes,
    });
    this.sessions.add(session);
    const forget = (): void => {
      this.sessions.delete(session);
    };
    call.on('close', forget);
    call.on('cancelled', forget);
    call.on('error', forget);
  }

  /** Stop accepting, end open streams (proxies keep their config and reconnect), wait briefly. Idempotent. */
  async stop(graceMs = 2000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sessions) s.shutdown();
    this.sessions.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
