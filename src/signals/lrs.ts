import * as grpc from '@grpc/grpc-js';
import type { LrsConfig } from '../config/schema.js';
import type { EndpointKey, TrafficSample } from '../core/model.js';
import type { Logger } from '../log.js';
import { extractTraffic } from './load-report.js';
import { LogThrottle } from './log-throttle.js';
import { isMalformedLoadStats, lrsServiceDefinition, msToDuration, type DecodedLoadStats, type LoadStatsResponse } from './lrs-proto.js';

export interface LrsServiceOptions {
  config: LrsConfig;
  logger: Logger;
  now?: () => number;
  /** One call per endpoint with completed requests in a report interval. Must not throw (errors are logged). */
  onTraffic: (key: EndpointKey, sample: TrafficSample, nodeId: string) => void;
  /** Endpoint entries read per report, at most (default 10,000); the rest of a larger report is ignored. */
  maxEndpointsPerReport?: number;
}

type LrsCall = grpc.ServerDuplexStream<DecodedLoadStats, LoadStatsResponse>;

const MAX_NODE_ID = 1024;
const LOG_EVERY_MS = 30_000;

/**
 * Envoy's LoadReportingService (StreamLoadStats): asks every proxy for per-endpoint load reports of
 * all clusters every `reportIntervalMs`, and turns each report into TrafficSamples.
 */
export class LrsService {
  private readonly now: () => number;
  private readonly live = new Map<LrsCall, { nodeId: string | undefined }>();
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
    const state = { nodeId: undefined as string | undefined };
    this.live.set(call, state);
    const forget = (): void => {
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

  private onRequest(call: LrsCall, state: { nodeId: string | undefined }, req: DecodedLoadStats): void {
    if (!this.live.has(call)) return;
    if (state.nodeId === undefined) {
      if (isMalformedLoadStats(req)) return this.fail(call, grpc.status.INVALID_ARGUMENT, 'first LoadStatsRequest could not be decoded');
      const id = req.node?.id;
      if (typeof id !== 'string' || id.length === 0) return this.fail(call, grpc.status.INVALID_ARGUMENT, 'node.id: required on the first LoadStatsRequest');
      if (id.length > MAX_NODE_ID) return this.fail(call, grpc.status.INVALID_ARGUMENT, `node.id: must be at most ${MAX_NODE_ID} characters`);
      state.nodeId = id;
      this.opts.logger.info({ node: id, intervalMs: this.opts.config.reportIntervalMs }, 'LRS stream opened');
      call.write(this.response);
    }
    if (isMalformedLoadStats(req)) {
      this.badReports.warn({ node: state.nodeId, error: req.malformed }, 'undecodable load report ignored');
      return;
    }
    this.consume(state.nodeId, req);
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
    this.live.delete(call);
    this.opts.logger.warn({ node: state?.nodeId, code, details }, 'closing LRS stream');
    call.emit('error', { code, details, name: 'Error', message: details });
  }
}
