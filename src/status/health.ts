import { dirname } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import type { Logger } from '../log.js';
import type { Operations } from '../operations.js';
import { healthmeshPackageDefinition, STATUS_SERVICE_NAME } from './proto.js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

export interface SelfServicesOptions {
  ops: Pick<Operations, 'ready'>;
  logger: Logger;
  /**
   * What server reflection describes. Default: status.proto + agent.proto + grpc.health.v1, so
   * `grpcurl -plaintext HOST:PORT list` / `describe` work without proto files.
   */
  packageDefinitions?: protoLoader.PackageDefinition[];
  /** Services whose health follows ops.ready(), besides the overall "" (default: healthmesh.v1.Status). */
  services?: string[];
  /** How often readiness is checked until it is reached (default 200 ms). */
  pollMs?: number;
}

let healthDefinition: protoLoader.PackageDefinition | undefined;

/** grpc.health.v1, loaded from grpc-health-check's own proto (so reflection can describe it). */
function healthPackageDefinition(): protoLoader.PackageDefinition {
  healthDefinition ??= protoLoader.loadSync('health/v1/health.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [dirname(dirname(dirname(healthProtoPath)))],
  });
  return healthDefinition;
}

/** The default reflection contents: healthmesh.v1 (Status, Agent) and grpc.health.v1. */
export function defaultReflectedDefinitions(): protoLoader.PackageDefinition[] {
  return [healthmeshPackageDefinition(), healthPackageDefinition()];
}

/**
 * healthmesh's own grpc.health.v1 (NOT_SERVING until Operations is ready, then SERVING; NOT_SERVING
 * again on stop) and gRPC server reflection.
 */
export class SelfServices {
  readonly health: HealthImplementation;
  private readonly services: string[];
  private readonly reflection: ReflectionService;
  private timer: NodeJS.Timeout | undefined;
  private state: ServingStatus = 'NOT_SERVING';
  private stopped = false;

  constructor(private readonly opts: SelfServicesOptions) {
    this.services = ['', ...(opts.services ?? [STATUS_SERVICE_NAME])];
    this.health = new HealthImplementation(Object.fromEntries(this.services.map((s) => [s, 'NOT_SERVING' as const])));
    const merged = Object.assign({}, ...(opts.packageDefinitions ?? defaultReflectedDefinitions())) as protoLoader.PackageDefinition;
    this.reflection = new ReflectionService(merged as ConstructorParameters<typeof ReflectionService>[0]);
  }

  get status(): ServingStatus {
    return this.state;
  }

  register(server: grpc.Server): void {
    this.health.addToServer(server);
    this.reflection.addToServer(server);
  }

  /** Reports SERVING as soon as ops.ready() (checked now, then every pollMs until true). */
  start(): void {
    if (this.stopped || this.timer || this.refresh()) return;
    this.timer = setInterval(() => this.refresh(), this.opts.pollMs ?? 200);
    this.timer.unref();
  }

  /** Re-checks readiness now (the app may call it when it knows it became ready); true once SERVING. */
  refresh(): boolean {
    if (this.stopped) return false;
    if (this.state === 'SERVING') return true;
    if (!this.opts.ops.ready()) return false;
    this.set('SERVING');
    this.clearTimer();
    this.opts.logger.info('gRPC health: SERVING');
    return true;
  }

  /** NOT_SERVING from now on. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer();
    this.set('NOT_SERVING');
  }

  private set(status: ServingStatus): void {
    this.state = status;
    for (const s of this.services) this.health.setStatus(s, status);
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Creates healthmesh's health and reflection services, adds them to `server` and starts the readiness check. */
export function registerSelfServices(server: grpc.Server, opts: SelfServicesOptions): SelfServices {
  const self = new SelfServices(opts);
  self.register(server);
  self.start();
  return self;
}
