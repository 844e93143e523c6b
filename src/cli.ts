import { Command } from 'commander';
import { agentCommand } from './agent/command.js';
import { reportCommand } from './cli/report-command.js';
import { proxiesCommand, statusCommand } from './cli/status-command.js';
import { loadConfigFile } from './config/load.js';
import { ConfigError, HealthmeshError } from './errors.js';
import { fileURLToPath } from 'node:url';

const program = new Command().name('healthmesh').description('Health-aware load-balancing xDS control plane for Envoy');

program
  .command('serve')
  .description('run the control plane')
  .option('-c, --config <file>', 'configuration file (YAML)', 'examples/healthmesh.yaml')
  .action(async (opts: { config: string }) => {
    const { serve } = await import('./main.js');
    const running = await serve(opts.config);
    const shutdown = (): void => {
      void running.stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });

program
  .command('validate')
  .description('check a configuration file and exit (0 when valid)')
  .argument('<file>', 'configuration file (YAML)')
  .action((file: string) => {
    const config = loadConfigFile(file);
    const endpoints = config.clusters.reduce((n, c) => n + c.endpoints.length, 0);
    console.log(
      `${file}: valid (${config.listeners.length} listeners, ${config.routes.length} route configs, ${config.clusters.length} clusters, ${endpoints} endpoints)`,
    );
  });

program
  .command('demo')
  .description('the out-of-the-box demo: healthmesh, three demo backends, a control panel and a real Envoy')
  .option('-c, --config <file>', 'configuration file (YAML)', 'examples/healthmesh.yaml')
  .option('--control-port <port>', 'port of the demo control panel', '9100')
  .option('--control-host <host>', 'address the demo control panel binds', '127.0.0.1')
  .option('--no-envoy', 'do not start Envoy')
  .action(async (opts: { config: string; controlPort: string; controlHost: string; envoy: boolean }) => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const { runDemo } = await import('./demo/demo.js');
    const demo = await runDemo({ configFile: opts.config, root, controlPort: Number(opts.controlPort), controlHost: opts.controlHost, envoy: opts.envoy });
    const shutdown = (): void => {
      void demo.stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });

program.addCommand(agentCommand());
program.addCommand(statusCommand());
program.addCommand(proxiesCommand());
program.addCommand(reportCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof HealthmeshError) {
    console.error(`healthmesh: ${err.message}`);
    process.exit(1);
  }
  console.error(`healthmesh: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
