import * as grpc from '@grpc/grpc-js';
import { Command, InvalidArgumentError as OptionError } from 'commander';
import { parseControlPlane } from '../agent/cli-options.js';
import { clientCredentials, type ClientTlsFiles } from '../auth/tls.js';
import { InvalidArgumentError } from '../errors.js';
import { proxyReport, statusReport, toJson, watchLine } from '../status/format.js';
import { callStatus, createStatusClient, type ClusterWire, type EndpointWire, type StatusClient, type WatchEventWire } from '../status/proto.js';

const DEFAULT_SERVER = '127.0.0.1:18000';
const DEFAULT_TIMEOUT_MS = 5000;

interface CommonOptions extends ClientTlsFiles {
  server: string;
  json?: boolean;
  timeoutMs: number;
}

/** Failures worth one clear line (exit code 1), not a stack trace. */
class CliFailure extends Error {}

const parseServer = (raw: string): string => {
  try {
    return parseControlPlane(raw);
  } catch (err) {
    throw new OptionError(err instanceof InvalidArgumentError ? `expected host:port, e.g. ${DEFAULT_SERVER}; got "${raw}"` : String(err));
  }
};

const parseTimeout = (raw: string): number => {
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 100 && n <= 600_000)) throw new OptionError(`must be 100..600000 ms, got "${raw}"`);
  return n;
};

const parseCluster = (raw: string): string => {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(raw)) throw new OptionError(`must be 1-200 letters, digits, "_", ".", ":" or "-", got "${raw}"`);
  return raw;
};

function common(cmd: Command): Command {
  return cmd
    .option('--server <host:port>', 'healthmesh gRPC address (its xDS port)', parseServer, DEFAULT_SERVER)
    .option('--json', 'print JSON instead of a table')
    .option('--timeout-ms <ms>', 'give up on an unreachable server after this long', parseTimeout, DEFAULT_TIMEOUT_MS)
    .option('--tls-ca <file>', 'the server uses TLS (xds.tls): verify it against this CA (PEM)')
    .option('--tls-cert <file>', 'client certificate for mTLS (PEM; with --tls-key and --tls-ca)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)');
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

/** grpc-js' "No connection established. Last error: Error: connect ECONNREFUSED ... Resolution note: " → "connection refused". */
function unreachableReason(e: Partial<grpc.ServiceError>, timeoutMs: number): string {
  if (e.code === grpc.status.DEADLINE_EXCEEDED) return `no answer within ${timeoutMs} ms`;
  const details = e.details ?? '';
  const sys = /\b(E[A-Z_]{3,})\b/.exec(details)?.[1];
  if (sys) return SOCKET_ERRORS[sys] ?? sys;
  return details.replace(/\s*Resolution note:\s*$/, '').trim() || 'unavailable';
}

/** A gRPC failure as one line that says what to do. */
function explain(err: unknown, opts: CommonOptions): string {
  const e = err as Partial<grpc.ServiceError>;
  if (err instanceof CliFailure) return err.message;
  if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
    return `cannot reach healthmesh at ${opts.server} (${unreachableReason(e, opts.timeoutMs)}); is it running, and is --server its xDS port?`;
  }
  if (e.code === grpc.status.UNIMPLEMENTED) return `${opts.server} does not serve healthmesh.v1.Status (is it a healthmesh control plane?)`;
  if (typeof e.code === 'number') return e.details || grpc.status[e.code] || String(e.code);
  return (err as Error).message ?? String(err);
}

/** Runs `body` with a client; prints a failure as `healthmesh <cmd>: <why>` and sets exit code 1. */
async function withClient(name: string, opts: CommonOptions, body: (client: StatusClient) => Promise<void>): Promise<void> {
  let client: StatusClient;
  try {
    client = createStatusClient(opts.server, {}, clientCredentials(opts));
  } catch (err) {
    process.stderr.write(`healthmesh ${name}: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    await body(client);
  } catch (err) {
    process.stderr.write(`healthmesh ${name}: ${explain(err, opts)}\n`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

/** Prints the state when the stream has sent it, then one line per change, until SIGINT/SIGTERM. */
function follow(client: StatusClient, opts: CommonOptions & { cluster?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.Watch({ cluster: opts.cluster ?? '' });
    const clusters = new Map<string, ClusterWire>();
    const endpoints = new Map<string, EndpointWire>();
    let synced = false;
    let interrupted = false;
    const interrupt = (): void => {
      interrupted = true;
      call.cancel();
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const done = (err?: Error): void => {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      if (err) reject(err);
      else resolve();
    };
    call.on('data', (ev: WatchEventWire) => {
      if (opts.json) {
        process.stdout.write(`${toJson(ev)}\n`);
        return;
      }
      if (synced) {
        process.stdout.write(`${watchLine(ev)}\n`);
        return;
      }
      if (ev.cluster) clusters.set(ev.cluster.name, ev.cluster);
      else if (ev.endpoint) endpoints.set(ev.endpoint.key, ev.endpoint);
      else if (ev.endpoint_removed) endpoints.delete(ev.endpoint_removed.key);
      else if (ev.synced) {
        synced = true;
        process.stdout.write(`${statusReport([...clusters.values()], [...endpoints.values()])}\nwatching for changes (Ctrl-C to stop)\n`);
      }
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (interrupted && err.code === grpc.status.CANCELLED) return done();
      if (synced) return done(new CliFailure(`watch ended: ${err.details || grpc.status[err.code]}`));
      done(err);
    });
    call.on('end', () => done());
  });
}

/** `healthmesh status`: the endpoints and their health, or (--watch) every change as it happens. */
export function statusCommand(): Command {
  return common(new Command('status'))
    .description('show endpoint health from a running healthmesh (or follow changes with --watch)')
    .option('--cluster <name>', 'only this cluster', parseCluster)
    .option('--watch', 'after the current state, print every change until Ctrl-C')
    .action((opts: CommonOptions & { cluster?: string; watch?: boolean }) =>
      withClient('status', opts, async (client) => {
        // A unary call first, with a deadline: an unreachable server fails here, clearly and in time.
        const listed = await callStatus(client, 'ListClusters', {}, opts.timeoutMs);
        const clusters = listed.clusters.filter((c) => opts.cluster === undefined || c.name === opts.cluster);
        const degraded = listed.degraded ?? [];
        if (opts.watch) return follow(client, opts);
        const { endpoints } = await callStatus(client, 'ListEndpoints', { cluster: opts.cluster ?? '' }, opts.timeoutMs);
        if (opts.json) process.stdout.write(`${toJson(degraded.length > 0 ? { clusters, endpoints, degraded } : { clusters, endpoints }, 2)}\n`);
        else process.stdout.write(`${degraded.map((d) => `DEGRADED: ${d}\n`).join('')}${statusReport(clusters, endpoints)}`);
      }),
    );
}

/** `healthmesh proxies`: per connected proxy, what it was sent, acknowledged and rejected. */
export function proxiesCommand(): Command {
  return common(new Command('proxies'))
    .description('show connected proxies and their ACK/NACK state per resource type')
    .action((opts: CommonOptions) =>
      withClient('proxies', opts, async (client) => {
        const { proxies } = await callStatus(client, 'ListProxies', {}, opts.timeoutMs);
        process.stdout.write(opts.json ? `${toJson({ proxies }, 2)}\n` : proxyReport(proxies));
      }),
    );
}
