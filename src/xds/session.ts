import { randomBytes } from 'node:crypto';
import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { LogThrottle } from '../log-throttle.js';
import { AdsState, SubscriptionLimitError, type Protocol, type RequestIn, type ResponseOut } from './ads-state.js';
import type { SnapshotCache } from './cache.js';
import type { NackRecord, ProxyRecord } from '../operations.js';
import { xdsType } from './protos.js';
import { isWeightBlindClient } from './resources.js';
import { decodeNode, isMalformed, type DeltaRequest, type DeltaResponse, type Malformed, type SotwRequest, type SotwResponse } from './wire.js';

export type { Protocol } from './ads-state.js';

/** Logs derived from client input: each kind rate-limited across all streams. */
export interface ClientLogs {
  nack: LogThrottle;
  unknownType: LogThrottle;
  rejected: LogThrottle;
  connection: LogThrottle;
}

/**
 * What a stream reports as it goes (go-control-plane's server callbacks): opened with its node (`connect`), then,
 * to what that returned, each response sent, each ACK and NACK, requests for types it does not serve, closed.
 * The ledger implements it; the session knows nothing else about who listens.
 */
export interface StreamCallbacks {
  connect(rec: Omit<ProxyRecord, 'connectedAt' | 'types' | 'unknownTypes'>): StreamReport;
}

/** One open stream's reports. */
export interface StreamReport {
  sent(typeUrl: string, version: string): void;
  ack(typeUrl: string, version: string, publishedAt: number): void;
  nack(typeUrl: string, nack: Omit<NackRecord, 'at'>): void;
  unknownType(typeUrl: string): void;
  /** After each ACK or NACK: the resources of the type held back from the proxy, and whether a bisection is under way. */
  held(typeUrl: string, heldBack: readonly string[], bisecting: boolean): void;
  disconnect(): void;
}

export interface SessionOptions {
  cache: SnapshotCache;
  callbacks: StreamCallbacks;
  logger: Logger;
  logs: ClientLogs;
  stuckStreamTimeoutMs: number;
  maxNacksPerMinute: number;
  maxSubscriptionsPerStream: number;
  maxNodeIdBytes: number;
  maxErrorDetailBytes: number;
  /** From the admission check: PERMISSION_DENIED details when this stream's token may not use `nodeId`. */
  checkNode?: (nodeId: string) => string | undefined;
  now?: () => number;
}

type Call = ServerDuplexStream<SotwRequest | DeltaRequest | Malformed, SotwResponse | DeltaResponse>;

/** Client text as it may appear in logs: bounded. */
export const clip = (s: string, max = 200): string => (s.length <= max ? s : `${s.slice(0, max)}…(${s.length} chars)`);

/** Truncate to at most `max` UTF-8 bytes (on a character boundary). */
export function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const buf = Buffer.from(s).subarray(0, max);
  return buf.toString('utf8').replace(/\uFFFD+$/, '');
}

const NO_TYPES: ReadonlySet<ResponseOut['typeUrl']> = new Set();

/** Stream ids: a random prefix per process and a counter (unique within the process, and across restarts in practice). */
const STREAM_ID_PREFIX = randomBytes(4).toString('hex');
let streamCount = 0;

/**
 * One ADS stream (SotW or Delta): the gRPC adapter around the pure AdsState. Responses carry the
 * snapshot's pre-encoded bytes. Nothing is queued: a stream that cannot keep up gets the newest
 * state when it drains.
 */
export class AdsSession {
  readonly id = `${STREAM_ID_PREFIX}${(++streamCount).toString(36)}`;
  private nodeId: string | undefined;
  /** Where this stream reports, once its node is known. */
  private report: StreamReport | undefined;
  private readonly state: AdsState;
  private blockedSince: number | undefined;
  private stuckTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private readonly nackTimes: number[] = [];
  private childLog: Logger | undefined;
  private readonly now: () => number;

  constructor(
    private readonly call: Call,
    readonly protocol: Protocol,
    private readonly opts: SessionOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.state = new AdsState(protocol, { maxSubscriptions: opts.maxSubscriptionsPerStream }, this.id);
    call.on('data', (req: SotwRequest | DeltaRequest | Malformed) => opts.cache.inTurn(this.receive, req));
    call.on('end', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
    call.on('close', () => this.close());
    call.on('drain', () => this.safely(() => this.onDrain()));
  }

  /** This stream's logger, made on first use: most streams never log (a pino child per stream costs time and memory). */
  private get log(): Logger {
    return (this.childLog ??= this.opts.logger.child({ stream: this.id, protocol: this.protocol }));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failed(err);
    }
  }

  /** A request, in its turn (one function per stream: no closure per request). */
  private readonly receive = (req: SotwRequest | DeltaRequest | Malformed): void => {
    try {
      this.onRequest(req);
    } catch (err) {
      this.failed(err);
    }
  };

  private failed(err: unknown): void {
    if (err instanceof SubscriptionLimitError)
      return this.fail(err.kind === 'limit' ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.INVALID_ARGUMENT, err.message);
    this.log.error({ err }, 'ADS stream failed');
    this.fail(GrpcStatus.INTERNAL, `healthmesh: internal error: ${(err as Error).message}`);
  }

  private onRequest(req: SotwRequest | DeltaRequest | Malformed): void {
    if (this.closed) return;
    if (isMalformed(req)) return this.fail(GrpcStatus.INVALID_ARGUMENT, `malformed request: ${clip(req.malformed)}`);
    if (!this.nodeId) {
      const node = req.node?.length ? decodeNode(req.node) : {};
      if (isMalformed(node)) return this.fail(GrpcStatus.INVALID_ARGUMENT, `malformed request: ${clip(node.malformed)}`);
      const id = node.id;
      if (!id) return this.fail(GrpcStatus.INVALID_ARGUMENT, 'node.id is required on the first request of a stream');
      const bytes = Buffer.byteLength(id);
      if (bytes > this.opts.maxNodeIdBytes)
        return this.fail(GrpcStatus.INVALID_ARGUMENT, `node.id is ${bytes} bytes, more than the ${this.opts.maxNodeIdBytes} allowed (xds.maxNodeIdBytes)`);
      const denied = this.opts.checkNode?.(id);
      if (denied) return this.fail(GrpcStatus.PERMISSION_DENIED, denied);
      this.nodeId = id;
      if (isWeightBlindClient(node.user_agent_name)) this.state.useVariant('proxyless');
      const ua = node.user_agent_name ? clip(`${node.user_agent_name}/${node.user_agent_version ?? ''}`, 256) : undefined;
      const nodeCluster = node.cluster ? clip(node.cluster, 256) : undefined;
      this.report = this.opts.callbacks.connect({
        streamId: this.id,
        nodeId: id,
        nodeCluster,
        userAgent: ua,
        protocol: this.protocol,
        peer: this.call.getPeer(),
      });
      this.opts.logs.connection.info(
        { stream: this.id, protocol: this.protocol, node: clip(id), peer: this.call.getPeer(), eds: this.state.variant },
        'proxy connected',
      );
      this.unsubscribe = this.opts.cache.subscribeStream(() => this.safely(() => this.pump()));
    }
    const typeUrl = xdsType(req.type_url ?? '');
    if (!typeUrl) {
      const asked = req.type_url ?? '';
      this.report?.unknownType(asked);
      this.opts.logs.unknownType.warn({ stream: this.id, node: clip(this.nodeId ?? ''), typeUrl: clip(asked) }, 'ignoring request for unsupported type_url');
      return;
    }
    const settled = this.state.onRequest(this.toRequest(typeUrl, req));
    if (settled?.kind === 'ack') this.report?.ack(typeUrl, settled.version, settled.publishedAt);
    else if (settled?.kind === 'nack') {
      const message = truncateBytes(settled.error.message, this.opts.maxErrorDetailBytes);
      this.report?.nack(typeUrl, { version: settled.version, message, code: settled.error.code, resources: settled.resources });
      this.opts.logs.nack.warn(
        {
          stream: this.id,
          node: clip(this.nodeId ?? ''),
          typeUrl,
          version: settled.version,
          resources: settled.resources.slice(0, 10).map((n) => clip(n)),
          error: clip(message, 500),
        },
        'proxy rejected (NACK) a response; it keeps its last good config',
      );
      const t = this.now();
      this.nackTimes.push(t);
      while (this.nackTimes.length > 0 && (this.nackTimes[0] ?? t) < t - 60_000) this.nackTimes.shift();
      if (this.nackTimes.length > this.opts.maxNacksPerMinute) {
        return this.fail(GrpcStatus.RESOURCE_EXHAUSTED, `too many NACKs (${this.nackTimes.length} in a minute)`);
      }
    }
    const snapshot = settled ? this.opts.cache.current() : undefined;
    if (snapshot) {
      // After the ACK or NACK: what stays held back from the proxy keeps its NACK unresolved in the ledger.
      const held = this.state.heldBack(typeUrl, snapshot);
      this.report?.held(typeUrl, held.names, held.bisecting);
    }
    this.pump();
  }

  private toRequest(typeUrl: RequestIn['typeUrl'], req: SotwRequest | DeltaRequest): RequestIn {
    const err = req.error_detail;
    const error = err && (err.message || err.code) ? { code: err.code ?? 0, message: err.message ?? '' } : undefined;
    if (this.protocol === 'sotw') return { typeUrl, nonce: req.response_nonce, error, resourceNames: (req as SotwRequest).resource_names ?? [] };
    const d = req as DeltaRequest;
    return {
      typeUrl,
      nonce: d.response_nonce,
      error,
      subscribe: d.resource_names_subscribe,
      unsubscribe: d.resource_names_unsubscribe,
      initialVersions: d.initial_resource_versions,
    };
  }

  private onDrain(): void {
    this.blockedSince = undefined;
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
    this.pump();
  }

  /** Send whatever the client lacks, in make-before-break order. */
  pump(): void {
    const snapshot = this.opts.cache.current();
    if (this.closed || !snapshot) return;
    let answered: Set<ResponseOut['typeUrl']> | undefined; // most pumps send one response or none
    while (this.blockedSince === undefined && !this.closed) {
      const out = this.state.next(snapshot, answered ?? NO_TYPES);
      if (!out) return;
      (answered ??= new Set()).add(out.typeUrl);
      this.write(out);
    }
  }

  private write(out: ResponseOut): void {
    const ok =
      this.protocol === 'sotw'
        ? this.call.write({ version_info: out.version, type_url: out.typeUrl, nonce: out.nonce, resources: out.resources.map((e) => e.any) })
        : this.call.write({
            system_version_info: out.version,
            type_url: out.typeUrl,
            nonce: out.nonce,
            resources: out.resources.map((e) => e.delta),
            removed_resources: out.removed,
          });
    this.report?.sent(out.typeUrl, out.version);
    if (!ok) this.block();
  }

  private block(): void {
    this.blockedSince = this.now();
    this.stuckTimer = setTimeout(() => {
      this.log.warn({ node: clip(this.nodeId ?? '') }, 'closing a stream that has not read its responses');
      this.fail(GrpcStatus.RESOURCE_EXHAUSTED, `stream did not read responses for ${this.opts.stuckStreamTimeoutMs} ms`);
    }, this.opts.stuckStreamTimeoutMs);
    this.stuckTimer.unref?.();
  }

  private fail(code: GrpcStatus, details: string): void {
    if (this.closed) return;
    this.opts.logs.rejected.warn(
      { stream: this.id, node: this.nodeId === undefined ? undefined : clip(this.nodeId), code, details: clip(details, 300) },
      'closing ADS stream',
    );
    this.close();
    this.call.emit('error', { code, details, name: 'Error', message: details });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.unsubscribe?.();
    this.report?.disconnect();
    if (this.nodeId) this.opts.logs.connection.info({ stream: this.id, node: clip(this.nodeId) }, 'proxy disconnected');
  }

  /** Ends the stream with UNAVAILABLE (server shutting down). */
  shutdown(): void {
    this.fail(GrpcStatus.UNAVAILABLE, 'control plane shutting down');
  }
}
