import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { startEnvoy, type EnvoyHandle } from '../support/envoy.js';
import { freePort, restartablePort } from '../support/net.js';
import { shares } from '../support/traffic.js';
import { waitFor } from '../support/wait.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** `kill -9` the control plane (a real child process): Envoy keeps routing, then reconverges with no empty push. */
describe.each(['sotw', 'delta'] as const)('control-plane restart (%s)', (mode) => {
  let backends: Backend[];
  let envoy: EnvoyHandle;
  let child: ChildProcess | undefined;
  let dir: string;
  let configFile: string;
  let url: string;
  let xdsPort: number;
  let childLog = '';

  function startControlPlane(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    childLog = '';
    return new Promise((resolveStart, reject) => {
      const onData = (b: Buffer): void => {
        out += b.toString();
        childLog += b.toString();
        if (out.includes('xDS server listening')) resolveStart(proc);
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`control plane exited with ${code}: ${out}`)));
      setTimeout(() => reject(new Error(`control plane did not start: ${out}`)), 20_000).unref();
    });
  }

  const stat = async (name: string): Promise<number> => (await envoy.stats()).get(name) ?? 0;
  /** SotW: the last CDS version Envoy accepted (its `version_text` stat); Delta: the demo cluster's resource version. */
  const clusterVersion = async (): Promise<string> => {
    if (mode === 'sotw') {
      const text = await (await fetch(`${envoy.adminUrl}/stats?filter=^cluster_manager\\.cds\\.version_text$`)).text();
      return /"(\d+)"/.exec(text)?.[1] ?? '';
    }
    const dump = await envoy.configDump();
    const cds = dump.configs.find((c: { '@type': string }) => c['@type'].endsWith('.ClustersConfigDump'));
    return cds.dynamic_active_clusters.find((c: { cluster: { name: string } }) => c.cluster.name === 'demo').version_info;
  };

  beforeAll(async () => {
    backends = await startHttpBackends(3);
    const listenerPort = await freePort();
    xdsPort = await restartablePort();
    url = `http://127.0.0.1:${listenerPort}/`;
    dir = mkdtempSync(join(tmpdir(), 'healthmesh-restart-'));
    configFile = join(dir, 'healthmesh.yaml');
    writeFileSync(
      configFile,
      stringify({
        xds: { listen: `127.0.0.1:${xdsPort}`, debounceMs: 20 },
        log: { level: 'info' },
        store: { path: join(dir, 'healthmesh.db') },
        admin: { enabled: false },
        listeners: [{ name: 'ingress', port: listenerPort, routeConfig: 'local_route' }],
        routes: [{ name: 'local_route', virtualHosts: [{ name: 'all', routes: [{ prefix: '/', cluster: 'demo' }] }] }],
        clusters: [{ name: 'demo', endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port })) }],
      }),
    );
    child = await startControlPlane();
    envoy = await startEnvoy({ xdsPort, mode, nodeId: `restart-${mode}` });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await envoy?.stop();
    await Promise.all((backends ?? []).map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps routing while the control plane is down and reconverges after restart without an empty push', async () => {
    await waitFor(async () => (await shares(url, 30)).errors === 0, { timeoutMs: 10_000, what: 'Envoy to route' });
    const before = await clusterVersion();

    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    await waitFor(async () => (await stat('control_plane.connected_state')) === 0, { timeoutMs: 10_000, what: 'Envoy to notice the control plane is gone' });
    const down = await shares(url, 300, { concurrency: 5 });
    expect(down.errors).toBe(0);
    expect(Object.keys(down.counts)).toHaveLength(3);

    // Traffic runs throughout the restart and reconnection.
    const during = shares(url, 600, { concurrency: 3 });
    child = await startControlPlane();
    await waitFor(async () => (await stat('control_plane.connected_state')) === 1, { timeoutMs: 15_000, what: 'Envoy to reconnect' });
    const duringRestart = await during;
    expect(duringRestart.errors).toBe(0);

    expect(await stat('cluster_manager.cds.update_empty')).toBe(0);
    expect(await stat('listener_manager.lds.update_empty')).toBe(0);
    expect(await stat('cluster_manager.cds.update_rejected')).toBe(0);
    if (mode === 'sotw') {
      // The restarted control plane's versions are higher: they never go backwards.
      let seen = '';
      await waitFor(async () => Number((seen = await clusterVersion())) > Number(before), { timeoutMs: 15_000, what: `a CDS version above ${before}` }).catch(
        (e: Error) => {
          throw new Error(`${e.message}; Envoy has ${seen}`);
        },
      );
    } else {
      expect(await clusterVersion()).toBe(before); // content-hash versions: unchanged content keeps its version
    }

    const s = await shares(url, 300, { concurrency: 5 });
    expect(s.errors).toBe(0);
    for (const b of backends) expect(s.share(b.name)).toBeGreaterThan(0.2);
  });

  it('re-reads the config on SIGHUP; an invalid new file is refused and the old config kept', async () => {
    const good = readFileSync(configFile, 'utf8');
    const cfg = parse(good) as { clusters: Array<{ endpoints: Array<{ port: number }> }> };
    const dropped = cfg.clusters[0]!.endpoints.pop()!;
    writeFileSync(configFile, stringify(cfg));
    child!.kill('SIGHUP');
    await waitFor(async () => !(await envoy.clusterHosts('demo')).some((h) => h.port === dropped.port), {
      timeoutMs: 15_000,
      what: 'the endpoint removed by SIGHUP reload to leave Envoy',
    });

    writeFileSync(configFile, 'clusters: [{ name: demo, endpoints: [{ address: 127.0.0.1, port: "not-a-port" }] }]\n');
    child!.kill('SIGHUP');
    await waitFor(() => childLog.includes('new configuration refused'), { timeoutMs: 15_000, what: 'the refusal to be logged' });
    expect(childLog).toMatch(/clusters\[0\]\.endpoints\[0\]\.port/);
    const s = await shares(url, 200, { concurrency: 5 });
    expect(s.errors).toBe(0);
    expect(Object.keys(s.counts)).toHaveLength(2);
    writeFileSync(configFile, good);
  });
});
