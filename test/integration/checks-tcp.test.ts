import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChecker, type Checker } from '../../src/checks/index.js';
import { runTcpCheck } from '../../src/checks/tcp.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

let server: Server;
let port: number;
let checker: Checker;
const open = new Set<Socket>();
let accepted = 0;

beforeAll(async () => {
  server = createServer((s) => {
    accepted++;
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger() });
});

afterAll(async () => {
  await checker.close();
  for (const s of open) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('TCP check', () => {
  it('passes on an open port and closes the connection at once', async () => {
    const r = await checker.run({ address: '127.0.0.1', port }, { tcp: {} }, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, detail: 'connected' });
    expect(accepted).toBeGreaterThanOrEqual(1);
    await waitFor(() => open.size === 0, { timeoutMs: 10_000, intervalMs: 10, what: 'the probe connection to be closed' });
  });

  it('fails on a refused port', async () => {
    const r = await checker.run({ address: '127.0.0.1', port: await freePort() }, { tcp: {} }, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: false, detail: 'connection refused' });
  });

  it('works standalone, bounded by its timeout', async () => {
    expect(await runTcpCheck({ address: '127.0.0.1', port }, { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'connected' });
    const ac = new AbortController();
    ac.abort();
    expect(await runTcpCheck({ address: '127.0.0.1', port }, { timeoutMs: 5000, signal: ac.signal })).toMatchObject({ ok: false, detail: 'aborted' });
  });
});
