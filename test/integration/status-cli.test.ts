import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { StatusService } from '../../src/status/service.js';
import { FakeOperations } from '../support/fake-operations.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';
import { testAuthenticator } from '../support/auth.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const T0 = 1_700_000_000_000;

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** `healthmesh <args>` as a user runs it: a real process through the real CLI entry point. */
function cli(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

let ops: FakeOperations;
let service: StatusService;
let server: grpc.Server;
let target: string;
const running: ChildProcess[] = [];

const run = async (args: string[]) => {
  const r = cli(args);
  running.push(r.child);
  const code = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
};

beforeAll(async () => {
  let now = T0;
  ops = new FakeOperations({ clusters: ['demo', 'other'], now: () => (now += 1000) });
  ops.seed({ cluster: 'demo', address: '127.0.0.1', port: 9101, expectedShare: 1 });
  ops.seed({
    cluster: 'demo',
    address: '127.0.0.1',
    port: 9102,
    status: 'UNHEALTHY',
    circuit: 'open',
    health: 'UNHEALTHY',
    weight: 0,
    score: 12,
    reasons: ['connection refused'],
    flapping: true,
  });
  ops.seed({
    cluster: 'other',
    address: '10.0.0.5',
    port: 80,
    status: 'DEGRADED',
    circuit: 'half-open',
    health: 'DEGRADED',
    weight: 30,
    score: 61.5,
    expectedShare: 0.25,
  });
  ops.proxyList = [
    {
      streamId: 's1',
      nodeId: 'envoy-1',
      protocol: 'sotw',
      peer: 'ipv4:127.0.0.1:40000',
      connectedAt: T0,
      unknownTypes: [],
      types: {
        'type.googleapis.com/envoy.config.cluster.v3.Cluster': {
          nacks: 2,
          sentVersion: 'v3',
          ackedVersion: 'v2',
          publishToAckMs: 14,
          lastNack: { version: 'v3', message: `Proto constraint validation failed: ${'x'.repeat(200)}`, code: 3, at: T0, resources: ['demo'] },
        },
        'type.googleapis.com/envoy.config.listener.v3.Listener': { nacks: 0, sentVersion: 'v1', ackedVersion: 'v1', publishToAckMs: 3 },
      },
    },
  ];
  server = new grpc.Server();
  service = new StatusService({ ops, logger: silentLogger(), config: { historyLimit: 10 }, auth: testAuthenticator() });
  service.register(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  target = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  service?.stop();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
});

describe('healthmesh status / proxies', () => {
  it('prints the endpoint table and exits 0', async () => {
    const { code, stdout, stderr } = await run(['status', '--server', target]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^CLUSTER\s+ENDPOINT\s+STATUS\s+CIRCUIT\s+HEALTH\s+WEIGHT\s+SCORE\s+SHARE\s+REASON$/);
    expect(stdout).toMatch(/demo\s+127\.0\.0\.1:9101\s+HEALTHY\s+closed\s+HEALTHY\s+100\/100\s+100\s+100\.0%\s+-/);
    expect(stdout).toMatch(/demo\s+127\.0\.0\.1:9102\s+UNHEALTHY \(flapping\)\s+open\s+UNHEALTHY\s+0\/100\s+12\s+0\.0%\s+connection refused/);
    expect(stdout).toMatch(/other\s+10\.0\.0\.5:80\s+DEGRADED\s+half-open\s+DEGRADED\s+30\/100\s+61\.5\s+25\.0%\s+-/);
    expect(stdout).toContain('cluster demo: 1/2 healthy, 1 failing, 1 ejected (max 1)');
  });

  it('filters by cluster, prints JSON, and lists proxies', async () => {
    const [filtered, json, proxies, proxiesJson] = await Promise.all([
      run(['status', '--server', target, '--cluster', 'other']),
      run(['status', '--server', target, '--json']),
      run(['proxies', '--server', target]),
      run(['proxies', '--server', target, '--json']),
    ]);
    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toContain('10.0.0.5:80');
    expect(filtered.stdout).not.toContain('9101');

    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { clusters: Array<{ name: string }>; endpoints: Array<{ key: string; health: string }> };
    expect(parsed.clusters.map((c) => c.name)).toEqual(['demo', 'other']);
    expect(parsed.endpoints.find((e) => e.key === 'demo/127.0.0.1:9102')?.health).toBe('HEALTH_STATUS_UNHEALTHY');

    expect(proxies.code).toBe(0);
    const rows = proxies.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NODE\s+PROTOCOL\s+PEER\s+TYPE\s+SENT\s+ACKED\s+PUBLISH->ACK\s+NACKS\s+LAST NACK$/);
    // Listeners before clusters (push order); the NACK text is truncated.
    expect(rows[1]).toMatch(/^envoy-1\s+sotw\s+ipv4:127\.0\.0\.1:40000\s+LDS\s+v1\s+v1\s+3 ms\s+0\s+-$/);
    expect(rows[2]).toMatch(/^\s+CDS\s+v3\s+v2\s+14 ms\s+2\s+v3: Proto constraint validation failed: x+\.\.\.$/);
    expect(rows[2]!.length).toBeLessThan(200);

    expect(proxiesJson.code).toBe(0);
    expect((JSON.parse(proxiesJson.stdout) as { proxies: Array<{ node_id: string }> }).proxies[0]?.node_id).toBe('envoy-1');
  });

  it("exits 1 with the server's reason for an unknown cluster", async () => {
    const { code, stdout, stderr } = await run(['status', '--server', target, '--cluster', 'nope']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('healthmesh status: cluster "nope" not found');
  });

  it('exits 1 with a clear message when nothing listens', async () => {
    const port = await freePort();
    const [status, proxies] = await Promise.all([
      run(['status', '--server', `127.0.0.1:${port}`, '--timeout-ms', '2000']),
      run(['proxies', '--server', `127.0.0.1:${port}`, '--timeout-ms', '2000']),
    ]);
    expect(status.code).toBe(1);
    expect(status.stdout).toBe('');
    expect(status.stderr).toMatch(
      new RegExp(`^healthmesh status: cannot reach healthmesh at 127\\.0\\.0\\.1:${port} \\(.+\\); is it running, and is --server its xDS port\\?\\n$`),
    );
    expect(proxies.code).toBe(1);
    expect(proxies.stderr).toContain(`healthmesh proxies: cannot reach healthmesh at 127.0.0.1:${port}`);
  });

  it('refuses a malformed --server', async () => {
    const { code, stderr } = await run(['status', '--server', 'nonsense']);
    expect(code).toBe(1);
    expect(stderr).toContain('expected host:port, e.g. 127.0.0.1:18000; got "nonsense"');
  });

  it('--watch prints the table, then one line per change, until Ctrl-C', async () => {
    const r = cli(['status', '--server', target, '--watch', '--cluster', 'demo']);
    running.push(r.child);
    await waitFor(() => r.stdout().includes('watching for changes'), { timeoutMs: 30_000, what: 'the initial table' });
    expect(r.stdout()).toMatch(/demo\s+127\.0\.0\.1:9101\s+HEALTHY/);
    expect(r.stdout()).not.toContain('10.0.0.5');
    ops.update('demo/127.0.0.1:9101', { status: 'UNHEALTHY', circuit: 'open', health: 'UNHEALTHY', weight: 0, score: 5, reasons: ['HTTP 503'] });
    await waitFor(() => r.stdout().includes('endpoint demo/127.0.0.1:9101'), { timeoutMs: 10_000, what: 'the change line' });
    const line = r
      .stdout()
      .split('\n')
      .find((l) => l.includes('endpoint demo/127.0.0.1:9101'))!;
    expect(line).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z endpoint demo\/127\.0\.0\.1:9101 HEALTHY -> UNHEALTHY status HEALTHY -> UNHEALTHY circuit closed -> open weight 100 -> 0\/100 score 5 "HTTP 503"$/,
    );
    await waitFor(() => r.stdout().includes('cluster demo: 0/2 healthy'), { timeoutMs: 10_000, what: 'the cluster line' });
    r.child.kill('SIGINT');
    expect(await r.exit).toBe(0);
    expect(r.stderr()).toBe('');
    await waitFor(() => service.activeWatches === 0, { timeoutMs: 10_000, what: 'the server to see the watch end' });
  });

  it('--watch exits 1 saying why when the server ends the stream', async () => {
    const r = cli(['status', '--server', target, '--watch']);
    running.push(r.child);
    await waitFor(() => r.stdout().includes('watching for changes'), { timeoutMs: 30_000, what: 'the initial table' });
    service.stop();
    expect(await r.exit).toBe(1);
    expect(r.stderr().trim()).toBe('healthmesh status: watch ended: healthmesh is shutting down; call Watch again once it is back');
  });
});
