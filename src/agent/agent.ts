import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import { createAgentClient, type AgentClient, type HeartbeatResponseWire, type HostedEndpoint } from '../signals/agent-proto.js';
import { LogThrottle } from '../signals/log-throttle.js';
import { sampleSystem, type SystemSample } from '../signals/system.js';

export const AGENT_VERSION = 'healthmesh-agent/0.1.0';

export interface NodeAgentOptions {
  /** host:port of the control plane's gRPC port. */
  controlPlane: string;
  /** Bearer token (an agent token, or the admin token) sent as `authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Channel credentials (TLS / mTLS); default insecure. */
  credentials?: grpc.ChannelCredentials | undefined;
  nodeId: string;
  endpoints: HostedEndpoint[];
  /** Interval until the control plane answers with its own next_interval_ms. */
  intervalMs: number;
  logger: Logger;
  /** Samples this host; default: sampleSystem() over systeminformation. */
  sample?: () => Promise<SystemSample>;
  /** Deadline of one Heartbeat call; default min(intervalMs, 5000). */
  deadlineMs?: number;
  /** A sample taking longer than this fails the beat; default 10000. */
  sampleTimeoutMs?: number;
  now?: () => number;
}

export interface NodeAgentStats {
  sent: number;
  ok: number;
  failed: number;
  intervalMs: number;
  lastError?: string;
  lastResponse?: HeartbeatResponseWire;
}

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;
const LOG_EVERY_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const clampInterval = (ms: number): number => Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(ms)));

/**
 * Heartbeats this host's resource usage to the control plane: the first at once, then every
 * interval (the control plane's next_interval_ms once it has answered). Failures are logged
 * (rate-limited) and the agent keeps going.
 */
export class NodeAgent {
  private client: AgentClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private call: grpc.ClientUnaryCall | undefined;
  private running = false;
  private readonly now: () => number;
  private readonly sample: () => Promise<SystemSample>;
  private readonly failures: LogThrottle;
  private readonly state: NodeAgentStats;

  constructor(private readonly opts: NodeAgentOptions) {
    this.now = opts.now ?? Date.now;
    this.sample = opts.sample ?? (() => sampleSystem());
    this.failures = new LogThrottle(opts.logger, LOG_EVERY_MS, this.now);
    this.state = { sent: 0, ok: 0, failed: 0, intervalMs: clampInterval(opts.intervalMs) };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.client = createAgentClient(this.opts.controlPlane, {}, this.opts.credentials);
    this.opts.logger.info({ controlPlane: this.opts.controlPlane, node: this.opts.nodeId, endpoints: this.opts.endpoints.length }, 'agent started');
    this.schedule(0);
  }

  /** Cancels the pending heartbeat, waits for an in-flight one to settle, closes the channel. Idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.call?.cancel();
    await this.inflight;
    this.client?.close();
    this.client = undefined;
    this.opts.logger.info({ node: this.opts.nodeId }, 'agent stopped');
  }

  stats(): Readonly<NodeAgentStats> {
    return { ...this.state };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const started = this.now();
      this.inflight = this.beat().finally(() => {
        this.inflight = undefined;
        // Fixed rate (start to start), but a slow beat (first CPU sample, a deadline) is not followed by an immediate one.
        const interval = this.state.intervalMs;
        this.schedule(Math.max(interval - (this.now() - started), interval / 2));
      });
    }, delayMs);
  }

  private async beat(): Promise<void> {
    try {
      const s = await withTimeout(this.sample(), this.opts.sampleTimeoutMs ?? 10_000, 'system sampling');
      if (!this.running) return;
      this.state.sent++;
      const res = await this.send(s);
      this.state.ok++;
      this.state.lastResponse = res;
      if (res.next_interval_ms > 0) this.state.intervalMs = clampInterval(res.next_interval_ms);
      this.failures.recovered({ node: this.opts.nodeId }, 'heartbeats accepted again');
    } catch (err) {
      if (!this.running) return;
      this.state.failed++;
      const e = err as Partial<grpc.ServiceError>;
      this.state.lastError = e.details ?? e.message ?? String(err);
      this.failures.warn({ node: this.opts.nodeId, code: e.code, error: this.state.lastError }, 'heartbeat failed');
    }
  }

  private send(s: SystemSample): Promise<HeartbeatResponseWire> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('agent stopped'));
    const deadlineMs = this.opts.deadlineMs ?? Math.min(this.state.intervalMs, 5000);
    return new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      if (this.opts.token) metadata.set('authorization', `Bearer ${this.opts.token}`);
      this.call = client.Heartbeat(
        {
          node_id: this.opts.nodeId,
          endpoints: this.opts.endpoints,
          cpu_percent: s.cpuPercent,
          memory_percent: s.memoryPercent,
          disk_percent: s.diskPercent,
          interval_ms: this.state.intervalMs,
          agent_version: AGENT_VERSION,
        },
        metadata,
        { deadline: Date.now() + deadlineMs },
        (err, res) => {
          this.call = undefined;
          if (err) reject(err);
          else if (!res) reject(new Error('empty heartbeat response'));
          else resolve(res);
        },
      );
    });
  }
}
