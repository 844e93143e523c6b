import { Command, InvalidArgumentError as OptionError, Option } from 'commander';
import { clientCredentials } from '../auth/tls.js';
import { InvalidArgumentError } from '../errors.js';
import { createLogger } from '../log.js';
import type { HostedEndpoint } from '../signals/agent-proto.js';
import { parseControlPlane, parseEndpointSpec, parseIntervalMs, parseNodeId, parseToken } from './cli-options.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Turns our typed parse errors into commander's, so a bad option prints a clear message and exits 1. */
function option<T>(parse: (raw: string) => T): (raw: string) => T {
  return (raw) => {
    try {
      return parse(raw);
    } catch (err) {
      throw new OptionError(err instanceof InvalidArgumentError ? err.message.slice(err.field.length + 2) : String(err));
    }
  };
}

interface AgentCliOptions {
  controlPlane: string;
  nodeId: string;
  endpoint: HostedEndpoint[];
  intervalMs: number;
  token?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: (typeof LEVELS)[number];
}

const collectEndpoint = (raw: string, prev: HostedEndpoint[] = []): HostedEndpoint[] => [...prev, option(parseEndpointSpec)(raw)];

/** `healthmesh agent`: heartbeats this host's CPU/memory/disk for the given endpoints until SIGTERM/SIGINT. */
export function agentCommand(): Command {
  return new Command('agent')
    .description("run a node agent: heartbeat this host's CPU, memory and disk usage to the control plane")
    .requiredOption('--control-plane <host:port>', 'control plane gRPC address', option(parseControlPlane))
    .requiredOption('--node-id <name>', 'identity of this host', option(parseNodeId))
    .requiredOption('--endpoint <cluster/address:port>', 'an endpoint served from this host (repeatable), e.g. demo/127.0.0.1:9101', collectEndpoint)
    .option('--interval-ms <ms>', 'heartbeat interval until the control plane sets one', option(parseIntervalMs), 5000)
    .addOption(
      new Option('--token <token>', 'agent bearer token (auth.tokens role agent); prefer the environment variable')
        .env('HEALTHMESH_AGENT_TOKEN')
        .argParser(option(parseToken)),
    )
    .option('--tls-ca <file>', 'verify the control plane with TLS against this CA (PEM)')
    .option('--tls-cert <file>', 'client certificate for mTLS (PEM; with --tls-key and --tls-ca)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LEVELS).default('info'))
    .action(async (opts: AgentCliOptions) => {
      const { NodeAgent } = await import('./agent.js'); // systeminformation: only the agent needs it
      const logger = createLogger(opts.logLevel).child({ component: 'agent' });
      if (!opts.token) logger.warn('no --token / HEALTHMESH_AGENT_TOKEN: the control plane will refuse heartbeats (UNAUTHENTICATED)');
      const credentials = clientCredentials(opts);
      const agent = new NodeAgent({
        controlPlane: opts.controlPlane,
        nodeId: opts.nodeId,
        endpoints: opts.endpoint,
        intervalMs: opts.intervalMs,
        logger,
        token: opts.token,
        credentials,
      });
      agent.start();
      const shutdown = (): void => {
        void agent.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
