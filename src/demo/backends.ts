import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A demo backend: answers any path with its name; /healthz reports its state; it can be made to fail. */
export type DemoMode = 'ok' | 'fail' | 'slow' | 'hang' | 'error';

export interface DemoBackend {
  name: string;
  port: number;
  mode: DemoMode;
  requests: number;
  close(): Promise<void>;
}

const SLOW_MS = 2000;

export async function startDemoBackend(name: string, port: number, host = '127.0.0.1'): Promise<DemoBackend> {
  const backend = { name, port, mode: 'ok' as DemoMode, requests: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    const health = (req.url ?? '').split('?')[0] === '/healthz';
    if (!health) backend.requests++;
    const mode = backend.mode;
    if (mode === 'hang') return;
    const status = (health && mode === 'fail') || (!health && mode === 'error') ? 503 : 200;
    const answer = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(health ? `${name} ${mode}\n` : `hello from ${name}\n`);
    };
    if (mode === 'slow') setTimeout(answer, SLOW_MS);
    else answer();
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return Object.assign(backend, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

const MODES: readonly DemoMode[] = ['ok', 'fail', 'slow', 'hang', 'error'];

/**
 * The demo's control panel: `GET /` lists backends, `POST /backends/<name>/<mode>` switches one
 * (ok, fail = health check 503, slow = 2 s answers, hang = never answers, error = 503 to real traffic).
 */
export async function startDemoControl(backends: DemoBackend[], port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body, null, 2)}\n`);
    };
    const list = (): unknown => backends.map((b) => ({ name: b.name, port: b.port, mode: b.mode, requests: b.requests }));
    const m = /^\/backends\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && (req.url === '/' || req.url === '/backends')) return send(200, list());
    if (req.method === 'POST' && m) {
      const b = backends.find((x) => x.name === m[1]);
      if (!b) return send(404, { error: `no backend named ${m[1]}` });
      if (!MODES.includes(m[2] as DemoMode)) return send(400, { error: `mode must be one of ${MODES.join(', ')}` });
      b.mode = m[2] as DemoMode;
      return send(200, list());
    }
    send(404, { error: 'GET / or POST /backends/<name>/<ok|fail|slow|hang|error>' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
