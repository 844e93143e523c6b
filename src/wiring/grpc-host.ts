import { Server } from '@grpc/grpc-js';
import { serverCredentials, warnIfExposedPlaintext } from '../auth/tls.js';
import type { XdsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';

/** A service served over gRPC: it adds itself to the server, may start before the server listens, and ends its calls on stop. */
export interface GrpcService {
  register(server: Server): void;
  /** Runs when the host starts, before it listens. */
  start?(): void;
  /** Ends the service's open calls (streams) so the server can shut down gracefully. Idempotent. */
  stop?(): void;
}

export interface GrpcHostOptions {
  /** Where to listen (`host:port`; port 0 picks a free one). */
  listen: string;
  /** Transport, message limits: the xDS port's settings (the status port, when separate, uses the same). */
  config: Pick<XdsConfig, 'tls' | 'maxReceiveMessageBytes' | 'maxSendMessageBytes'>;
  logger: Logger;
  /** What the port serves, for the log lines (`xDS` → "xDS server listening"). */
  label: string;
  /** How the plaintext-exposure warning names the port (default "the <label> gRPC port"). */
  portName?: string;
  /** How long stop() waits for calls to finish before cutting them. Default 2 s. */
  graceMs?: number;
}

/**
 * One gRPC server and the services registered on it: created first, services register themselves on it
 * (`serve`), it listens when started and, on stop, has its services end their calls, then shuts down
 * (gracefully, for at most `graceMs`). start() and stop() are idempotent.
 */
export class GrpcHost {
  readonly server: Server;
  private readonly services: GrpcService[] = [];
  private bound: number | undefined;
  private starting: Promise<number> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: GrpcHostOptions) {
    this.server = new Server({
      'grpc.max_receive_message_length': opts.config.maxReceiveMessageBytes,
      'grpc.max_send_message_length': opts.config.maxSendMessageBytes,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      'grpc.max_concurrent_streams': 100_000,
      // No channelz service is served: its per-call and per-message bookkeeping (two clock reads per message) would be unread.
      'grpc.enable_channelz': 0,
    });
  }

  /** Registers each service on the server (before start). */
  serve(...services: GrpcService[]): this {
    for (const s of services) {
      s.register(this.server);
      this.services.push(s);
    }
    return this;
  }

  /** The port it listens on (0 before start). */
  get port(): number {
    return this.bound ?? 0;
  }

  /** Starts the services and listens; rejects with "cannot listen on ..." when the address is taken or invalid. */
  start(): Promise<number> {
    this.starting ??= this.listen();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async listen(): Promise<number> {
    if (this.stopping) throw new Error(`the ${this.opts.label} server is stopped`);
    for (const s of this.services) s.start?.();
    const { listen, config, logger, label } = this.opts;
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(listen, serverCredentials(config.tls), (err, p) =>
        err ? reject(new Error(`cannot listen on ${listen}: ${err.message}`)) : resolve(p),
      ),
    );
    this.bound = port;
    const security = config.tls ? (config.tls.clientCa ? 'mTLS' : 'TLS') : 'plaintext';
    logger.info({ address: listen, port, security }, `${label} server listening`);
    warnIfExposedPlaintext(listen, config.tls, logger, this.opts.portName ?? `the ${label} gRPC port`);
    return port;
  }

  private async shutdown(): Promise<void> {
    for (const s of this.services) s.stop?.();
    await this.starting?.catch(() => undefined);
    const server = this.server;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, this.opts.graceMs ?? 2000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
