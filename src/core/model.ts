/**
 * The health engine's vocabulary. Pure data: no I/O, no clocks. Times are milliseconds since the
 * epoch, always passed in by the caller.
 */

/** `cluster/address:port` */
export type EndpointKey = string;

export const endpointKey = (cluster: string, address: string, port: number): EndpointKey => `${cluster}/${address}:${port}`;

export type Status = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';
export type CircuitState = 'closed' | 'open' | 'half-open';

/** One active probe of an endpoint (HTTP, TCP, gRPC health, custom) or of one of its dependencies. */
export interface ProbeOutcome {
  at: number;
  ok: boolean;
  latencyMs: number;
  /** What was seen: "HTTP 503", "timeout after 500 ms", "connection refused", "SERVING". */
  detail: string;
  timedOut?: boolean;
}

/** Passive signal: one load report interval of real traffic for an endpoint (from Envoy's LRS). */
export interface TrafficSample {
  at: number;
  intervalMs: number;
  successes: number;
  errors: number;
}

/** A node agent heartbeat: resource usage of the host that runs the endpoint. */
export interface NodeSample {
  at: number;
  nodeId: string;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
}

/** What the engine currently knows about one endpoint. Bounded: the adapters keep only recent items. */
export interface EndpointSignals {
  /** Recent active probes, oldest first (at most the scoring window). */
  probes: readonly ProbeOutcome[];
  /** Consecutive passing / failing probes, counted over all probes (not just the window). */
  consecutiveOk: number;
  consecutiveFail: number;
  /** Probes completed so far (a sequence number: probation counts probes after a given one). */
  probeCount: number;
  /** Failing dependencies by name, with their last detail. */
  failingDependencies: ReadonlyArray<{ name: string; detail: string }>;
  /** Recent load reports, oldest first. */
  traffic: readonly TrafficSample[];
  /** Latest heartbeat of the node hosting this endpoint, if an agent ever reported it. */
  node?: NodeSample | undefined;
  /** Whether the endpoint has an active check at all (no check: probes never count). */
  actively: boolean;
  /**
   * Cluster context for adaptive latency: the median of the cluster's endpoints' median probe latencies
   * (computed by the engine; absent with fewer than three endpoints measured).
   */
  peerLatencyMs?: number | undefined;
}

export const emptySignals = (actively: boolean): EndpointSignals => ({
  probes: [],
  consecutiveOk: 0,
  consecutiveFail: 0,
  probeCount: 0,
  failingDependencies: [],
  traffic: [],
  actively,
});
