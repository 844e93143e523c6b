import * as grpc from '@grpc/grpc-js';
import type { NodeSample } from '../core/model.js';
import { HealthmeshError } from '../errors.js';
import type { Logger } from '../log.js';
import { agentServiceDefinition, isMalformedHeartbeat, type DecodedHeartbeat, type HeartbeatResponseWire, type HostedEndpoint } from './agent-proto.js';
import { DEFAULT_HEARTBEAT_LIMITS, validateHeartbeat, type HeartbeatLimits } from './heartbeat.js';

export interface Heartbeat {
  nodeId: string;
  endpoints: HostedEndpoint[];
  sample: NodeSample;
}

export interface AgentIntakeOptions {
  logger: Logger;
  now?: () => number;
  /** Applies a valid heartbeat; returns how many endpoints it was attached to. Throw NotFoundError for an unknown cluster. */
  onHeartbeat: (hb: Heartbeat) => { accepted: number };
  /** Told to every agent as next_interval_ms. */
  intervalMs: number;
  limits?: Partial<HeartbeatLimits>;
}

const GRPC_CODE: Partial<Record<HealthmeshError['code'], grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
};

/**
 * Serves healthmesh.v1.Agent/Heartbeat: validates each heartbeat field by field and hands it on.
 * Message size is bounded by the server's grpc.max_receive_message_length; endpoints and node_id by `limits`.
 */
export class AgentIntake {
  private readonly now: () => number;
  private readonly limits: HeartbeatLimits;

  constructor(private readonly opts: AgentIntakeOptions) {
    this.now = opts.now ?? Date.now;
    this.limits = { ...DEFAULT_HEARTBEAT_LIMITS, ...opts.limits };
  }

  register(server: grpc.Server): void {
    server.addService(agentServiceDefinition(), {
      Heartbeat: (call: grpc.ServerUnaryCall<DecodedHeartbeat, HeartbeatResponseWire>, cb: grpc.sendUnaryData<HeartbeatResponseWire>) =>
        cb(...this.handle(call.request)),
    });
  }

  /** Exposed for tests: the answer to one decoded request. */
  handle(req: DecodedHeartbeat): [Partial<grpc.StatusObject> | null, HeartbeatResponseWire?] {
    if (isMalformedHeartbeat(req)) {
      this.opts.logger.warn({ error: req.malformed }, 'undecodable heartbeat refused');
      return [{ code: grpc.status.INVALID_ARGUMENT, details: 'request: not a valid healthmesh.v1.HeartbeatRequest' }];
    }
    try {
      const hb = validateHeartbeat(req, this.limits);
      const sample: NodeSample = {
        at: this.now(),
        nodeId: hb.nodeId,
        cpuPercent: hb.cpuPercent,
        memoryPercent: hb.memoryPercent,
        diskPercent: hb.diskPercent,
      };
      const { accepted } = this.opts.onHeartbeat({ nodeId: hb.nodeId, endpoints: hb.endpoints, sample });
      return [null, { next_interval_ms: this.opts.intervalMs, accepted_endpoints: accepted }];
    } catch (err) {
      const code = err instanceof HealthmeshError ? GRPC_CODE[err.code] : undefined;
      if (code !== undefined) {
        this.opts.logger.debug({ node: req.node_id?.slice(0, 256), error: (err as Error).message }, 'heartbeat refused');
        return [{ code, details: (err as Error).message }];
      }
      this.opts.logger.error({ node: req.node_id?.slice(0, 256), err }, 'heartbeat handler failed');
      return [{ code: grpc.status.INTERNAL, details: 'internal error' }];
    }
  }
}
