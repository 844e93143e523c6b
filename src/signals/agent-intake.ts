import * as grpc from '@grpc/grpc-js';
import { authorizeCall, authStatus, AuthError, mayBeNode, mayServe, type Authenticator, type Identity } from '../auth/index.js';
import { endpointKey, type NodeSample } from '../core/model.js';
import { HealthmeshError } from '../errors.js';
import type { Logger } from '../log.js';
import { isMalformed } from '../decoded.js';
import { agentServiceDefinition, type DecodedHeartbeat, type HeartbeatResponseWire, type HostedEndpoint } from './agent-proto.js';
import { DEFAULT_HEARTBEAT_LIMITS, validateHeartbeat, type HeartbeatLimits } from './heartbeat.js';

export interface Heartbeat {
  nodeId: string;
  endpoints: HostedEndpoint[];
  sample: NodeSample;
}

export interface AgentIntakeOptions {
  logger: Logger;
  /** Checks the bearer token (agent role or the admin token) and what the agent may speak for. */
  auth: Authenticator;
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
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
};

/**
 * Serves healthmesh.v1.Agent/Heartbeat: authenticates the caller (agent token or the admin token),
 * validates each heartbeat field by field, checks that the token may speak for the node id and every
 * endpoint listed (else PERMISSION_DENIED, nothing applied), and hands it on.
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
      Heartbeat: (call: grpc.ServerUnaryCall<DecodedHeartbeat, HeartbeatResponseWire>, cb: grpc.sendUnaryData<HeartbeatResponseWire>) => {
        let who: Identity;
        try {
          who = authorizeCall(this.opts.auth, call, 'agent', 'Heartbeat');
        } catch (err) {
          const status = authStatus(err);
          if (!status) throw err;
          this.opts.logger.debug({ peer: call.getPeer(), error: status.details }, 'heartbeat refused');
          cb(status);
          return;
        }
        cb(...this.handle(call.request, who));
      },
    });
  }

  /** Exposed for tests: the answer to one decoded request from an authenticated caller. */
  handle(req: DecodedHeartbeat, who: Identity): [Partial<grpc.StatusObject> | null, HeartbeatResponseWire?] {
    if (isMalformed(req)) {
      this.opts.logger.warn({ error: req.malformed }, 'undecodable heartbeat refused');
      return [{ code: grpc.status.INVALID_ARGUMENT, details: 'request: not a valid healthmesh.v1.HeartbeatRequest' }];
    }
    try {
      const hb = validateHeartbeat(req, this.limits);
      if (!mayBeNode(who, hb.nodeId)) throw new AuthError('PERMISSION_DENIED', `node_id: token "${who.name}" may not speak as node "${hb.nodeId}"`);
      hb.endpoints.forEach((e, i) => {
        const key = endpointKey(e.cluster, e.address, e.port);
        if (!mayServe(who, e.cluster, key)) throw new AuthError('PERMISSION_DENIED', `endpoints[${i}]: token "${who.name}" may not speak for ${key}`);
      });
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
        this.opts.logger.debug({ node: req.node_id?.slice(0, 256), by: who.name, error: (err as Error).message }, 'heartbeat refused');
        return [{ code, details: (err as Error).message }];
      }
      this.opts.logger.error({ node: req.node_id?.slice(0, 256), err }, 'heartbeat handler failed');
      return [{ code: grpc.status.INTERNAL, details: 'internal error' }];
    }
  }
}
