import { status, type Metadata, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import type { AdsAdmission } from '../auth/index.js';
import type { XdsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { LogThrottle } from '../log-throttle.js';
import type { SnapshotCache } from './cache.js';
import { AdsSession, type ClientLogs, type Protocol, type StreamCallbacks } from './session.js';
import { adsService, type DeltaRequest, type DeltaResponse, type Malformed, type SotwRequest, type SotwResponse } from './wire.js';

export interface AdsServiceOptions {
  config: Pick<
    XdsConfig,
    | 'stuckStreamTimeoutMs'
    | 'maxNacksPerMinute'
    | 'maxSubscriptionsPerStream'
    | 'maxNodeIdBytes'
    | 'maxErrorDetailBytes'
    | 'clientLogWindowMs'
    | 'clientLogBurst'
  >;
  /** Decides whether an ADS stream may open from its call metadata (e.g. a proxy token), and which node ids it may use. */
  admitAds?: (metadata: Metadata) => AdsAdmission | undefined;
  cache: SnapshotCache;
  /** Told what every stream does (the ledger). */
  callbacks: StreamCallbacks;
  logger: Logger;
}

type Stream = ServerDuplexStream<SotwRequest | DeltaRequest | Malformed, SotwResponse | DeltaResponse>;

/** The ADS service (State-of-the-World and Delta), registered on a gRPC server that its owner runs. */
export class AdsService {
  private readonly sessions = new Set<AdsSession>();
  private readonly logs: ClientLogs;
  private stopped = false;

  constructor(private readonly opts: AdsServiceOptions) {
    const { clientLogWindowMs: every, clientLogBurst: burst } = opts.config;
    const throttle = (): LogThrottle => new LogThrottle(opts.logger, every, Date.now, burst);
    this.logs = { nack: throttle(), unknownType: throttle(), rejected: throttle(), connection: throttle() };
  }

  register(server: Server): void {
    server.addService(adsService, {
      StreamAggregatedResources: (call: Stream) => this.open(call, 'sotw'),
      DeltaAggregatedResources: (call: Stream) => this.open(call, 'delta'),
    });
  }

  streamCount(): number {
    return this.sessions.size;
  }

  private open(call: Stream, protocol: Protocol): void {
    if (this.stopped) {
      call.emit('error', Object.assign(new Error('control plane shutting down'), { code: status.UNAVAILABLE, details: 'control plane shutting down' }));
      return;
    }
    const admission = this.opts.admitAds?.(call.metadata);
    const refused = admission?.refused;
    if (refused) {
      this.logs.rejected.warn({ peer: call.getPeer(), code: refused.code, details: refused.details }, 'ADS stream refused');
      call.emit('error', Object.assign(new Error(refused.details), refused));
      return;
    }
    const session = new AdsSession(call, protocol, {
      cache: this.opts.cache,
      callbacks: this.opts.callbacks,
      logger: this.opts.logger,
      logs: this.logs,
      stuckStreamTimeoutMs: this.opts.config.stuckStreamTimeoutMs,
      maxNacksPerMinute: this.opts.config.maxNacksPerMinute,
      maxSubscriptionsPerStream: this.opts.config.maxSubscriptionsPerStream,
      maxNodeIdBytes: this.opts.config.maxNodeIdBytes,
      maxErrorDetailBytes: this.opts.config.maxErrorDetailBytes,
      checkNode: admission?.checkNode,
    });
    this.sessions.add(session);
    const forget = (): void => {
      this.sessions.delete(session);
    };
    call.on('close', forget);
    call.on('cancelled', forget);
    call.on('error', forget);
  }

  /** End open streams (proxies keep their config and reconnect) and refuse new ones; the server's owner then shuts it down. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const s of this.sessions) s.shutdown();
    this.sessions.clear();
  }
}
