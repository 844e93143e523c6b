import * as grpc from '@grpc/grpc-js';
import { authorizeCall, authStatus, mayBeNode, type Authenticator, type Identity } from '../auth/index.js';
import type { LrsConfig } from '../config/schema.js';
import type { EndpointKey, TrafficSample } from '../core/model.js';
import type { Logger } from '../log.js';
import { extractTraffic } from './load-report.js';
import { LogThrottle } from './log-throttle.js';
import { isMalformed } from '../decoded.js';
import { lrsServiceDefinition, msToDuration, type DecodedLoadStats, type LoadStatsResponse } from './lrs-proto.js';

export interface LrsServiceOptions {
  config: LrsConfig;
  logger: Logger;
  now?: () => number;
  /** One call per endpoint with completed requests in a report interval. Must not throw (errors are logged). */
  onTraffic: (key: EndpointKey, sample: TrafficSample, nodeId: string) => void;
  /** Endpoint entries read per report, at most (default 10,000); the rest of a larger report is ignored. */
  maxEndpointsPerReport?: number;
  /** Checks the stream's bearer token (proxy role or the admin token). */
  auth: Authenticator;
  /** Whether node `nodeId` has an ADS stream open now: reports are accepted only then. */
  hasAdsStream: (nodeId: string) => boolean;
}

type LrsCall = grpc.ServerDuplexStream<DecodedLoadStats, LoadStatsResponse>;

interface StreamState {
  nodeId: string | undefined;
  who: Identity;
  /** Since when this stream's node has had no open ADS stream (undefined: it has one). */
  orphanSince?: number | undefined;
  timer?: NodeJS.Timeout | undefined;
}

const MAX_NODE_ID = 1024;
const LOG_EVERY_MS = 30_000;

/**
 * Envoy's LoadReportingService (StreamLoadStats): asks every proxy for per-endpoint load reports of
 * all clusters every `reportIntervalMs`, and turns each report into TrafficSamples. A stream needs a
 * proxy (or the admin) bearer token, and its reports count only while the same node id has an ADS
 * stream open; a stream whose node has none for `lrs.adsGraceMs` is closed (its reports are ignored meanwhile) with PERMISSION_DENIED.
 */
export class LrsService {
  private readonly now: () => number;
  private readonly live = new Map<LrsCall, StreamState>();
  private readonly badReports: LogThrottle;
  private readonly response: LoadStatsResponse;
  private stopped = false;

  constructor(private readonly opts: LrsServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.badReports = new LogThrottle(opts.logger, LOG_EVERY_MS, this.now);
    this.response = {
      clusters: [],
      send_all_clusters: true,
      load_reporting_interval: msToDuration(opts.config.reportIntervalMs),
      report_endpoint_granularity: true,
    };
  }

  /** Adds the service to `server` (does nothing when lrs.enabled is false: Envoy then gets UNIMPLEMENTED). */
  register(server: grpc.Server): void {
    if (!this.opts.config.enabled) {
      this.opts.logger.info('LRS disabled: not serving LoadReportingService');
      return;
    }
    server.addService(lrsServiceDefinition(), { StreamLoadStats: (call: LrsCall) => this.open(call) });
  }

  /** Open LRS streams. */
  streams(): number {
    return this.live.size;
  }

  /** Ends every stream with UNAVAILABLE (proxies reconnect elsewhere or later) and refuses new ones. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const call of [...this.live.keys()]) this.fail(call, grpc.status.UNAVAILABLE, 'control plane shutting down');
  }

  private open(call: LrsCall): void {
    if (this.stopped) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'control plane shutting down' });
      return;
    }
    let who: Identity;
    try {
      who = authorizeCall(this.opts.auth, call, 'proxy', 'StreamLoadStats');
    } catch (err) {
      const status = authStatus(err);
      if (!status) throw err;
      this.badReports.warn({ peer: call.getPeer(), error: status.details }, 'LRS stream refused');
      call.emit('error', { ...status, name: 'Error', message: status.details });
      return;
    }
    const state: StreamState = { nodeId: undefined, who };
    this.live.set(call, state);
    const forget = (): void => {
      clearTimeout(state.timer);
      this.live.delete(call);
    };
    call.on('data', (req: DecodedLoadStats) => this.onRequest(call, state, req));
    call.on('end', () => {
      if (!this.live.has(call)) return;
      forget();
      call.end();
    });
    call.on('error', forget);
    call.on('cancelled', forget);
    call.on('close', forget);
  }

  private onRequest(call: LrsCall, state: StreamState, req: DecodedLoadStats): void {
    if (!this.live.has(call)) return;
    if (state.nodeId === undefined) {
      if (isMalformed(req)) return this.fail(call, grpc.status.INVALID_ARGUMENT, 'first LoadStatsRequest could not be decoded');
      const id = req.node?.id;
      if (typeof id !== 'string' || id.length === 0) return this.fail(call, grpc.status.INVALID_ARGUMENT, 'node.id: required on the first LoadStatsRequest');
      if (id.length > MAX_NODE_ID) return this.fail(call, grpc.status.INVALID_ARGUMENT, `node.id: must be at most ${MAX_NODE_ID} characters`);
      if (!mayBeNode(state.who, id))
        return this.fail(call, grpc.status.PERMISSION_DENIED, `node.id: token "${state.who.name}" may not report as node "${id.slice(0, 256)}"`);
      state.nodeId = id;
      this.opts.logger.info({ node: id, intervalMs: this.opts.config.reportIntervalMs }, 'LRS stream opened');
      call.write(this.response);
    }
    if (!this.adsOpen(call, state)) return;
    if (isMalformed(req)) {
      this.badReports.warn({ node: state.nodeId, error: req.malformed }, 'undecodable load report ignored');
      return;
    }
    this.consume(state.nodeId, req);
  }

  /** Whether the stream's node has an ADS stream open; starts (or enforces) the grace period when it has not. */
  private adsOpen(call: LrsCall, state: StreamState): boolean {
    const nodeId = state.nodeId;
    if (nodeId === undefined) return false;
    if (this.opts.hasAdsStream(nodeId)) {
      state.orphanSince = undefined;
      clearTimeout(state.timer);
      state.timer = undefined;
      return true;
    }
    const graceMs = this.opts.config.adsGraceMs;
    const now = this.now();
    if (state.orphanSince === undefined) {
      state.orphanSince = now;
      state.timer = setTimeout(() => {
        state.timer = undefined;
        if (this.live.has(call) && !this.opts.hasAdsStream(nodeId)) this.refuseOrphan(call, nodeId, graceMs);
      }, graceMs);
      state.timer.unref?.();
    } else if (now - state.orphanSince >= graceMs) {
      this.refuseOrphan(call, nodeId, graceMs);
      return false;
    }
    this.badReports.warn({ node: nodeId }, 'load report ignored: no ADS stream open under its node id');
    return false;
  }

  private refuseOrphan(call: LrsCall, nodeId: string, graceMs: number): void {
    this.fail(
      call,
      grpc.status.PERMISSION_DENIED,
      `node "${nodeId.slice(0, 256)}" has no open ADS stream (for ${graceMs} ms): load reports are accepted only from proxies connected over ADS with the same node id`,
    );
  }

  private consume(nodeId: string, req: Exclude<DecodedLoadStats, { malformed: string }>): void {
    const { samples, skipped, truncated } = extractTraffic(req, {
      at: this.now(),
      fallbackIntervalMs: this.opts.config.reportIntervalMs,
      maxEndpoints: this.opts.maxEndpointsPerReport ?? 10_000,
    });
    if (skipped > 0 || truncated) this.badReports.warn({ node: nodeId, skipped, truncated }, 'load report partly ignored');
    for (const { key, sample } of samples) {
      try {
        this.opts.onTraffic(key, sample, nodeId);
      } catch (err) {
        this.opts.logger.error({ node: nodeId, key, err }, 'onTraffic failed');
      }
    }
  }

  private fail(call: LrsCall, code: grpc.status, details: string): void {
    const state = this.live.get(call);
    clearTimeout(state?.timer);
    this.live.delete(call);
    this.opts.logger.warn({ node: state?.nodeId, code, details }, 'closing LRS stream');
    call.emit('error', { code, details, name: 'Error', message: details });
  }
}
