import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChecker, type Checker } from '../../src/checks/index.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../support/net.js';
import { loopStall } from '../support/stall.js';

const FIXTURES = resolve(fileURLToPath(import.meta.url), '../../fixtures/checks');
const SLACK_MS = 250;

let checker: Checker;
let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  // Relative module paths resolve from baseDir (in production: the config file's directory).
  checker = createChecker({ allowTargets: [], baseDir: FIXTURES, logger: silentLogger() });
});

afterAll(async () => {
  await checker.close();
  await new Promise<void>((r) => server.close(() => r()));
});

const custom = (module: string, options?: Record<string, unknown>) => ({ custom: { module, ...(options ? { options } : {}) } });
const target = () => ({ address: '127.0.0.1', port });

describe('custom check modules', () => {
  it('passes with the module verdict, given target and options', async () => {
    expect(await checker.run(target(), custom('./ok.mjs', { word: 'hello' }), { timeoutMs: 5000 })).toMatchObject({
      ok: true,
      detail: `ok 127.0.0.1:${port} hello`,
    });
    expect(await checker.run(target(), custom(resolve(FIXTURES, 'ok.mjs')), { timeoutMs: 5000 })).toMatchObject({ ok: true });
  });

  it('fails with the module detail', async () => {
    expect(await checker.run(target(), custom('fail.mjs'), { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'queue depth 9000 > 1000' });
  });

  it('does real I/O against the target', async () => {
    expect(await checker.run(target(), custom('./tcp-connect.mjs'), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'tcp ok' });
    const closed = { address: '127.0.0.1', port: await freePort() };
    expect(await checker.run(closed, custom('./tcp-connect.mjs'), { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'tcp ECONNREFUSED' });
  });

  it('turns a throw into a failure', async () => {
    expect(await checker.run(target(), custom('./throws.mjs'), { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      detail: 'custom check threw: boom from custom check',
    });
  });

  it('times out a module that hangs and ignores its signal', async () => {
    const stall = loopStall();
    const t0 = performance.now();
    const r = await checker.run(target(), custom('./hangs.mjs'), { timeoutMs: 200 });
    const took = performance.now() - t0;
    expect(r).toMatchObject({ ok: false, timedOut: true, detail: 'timeout after 200 ms' });
    // Plus whatever this process's event loop stalled meanwhile (a starved machine fires the timeout late).
    const stalled = await stall.maxMs();
    stall.stop();
    expect(took, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(200 + SLACK_MS + stalled);
  });

  it('rejects garbage results', async () => {
    expect(await checker.run(target(), custom('./garbage.mjs'), { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      detail: 'custom check returned an invalid result (expected { ok: boolean, detail?: string })',
    });
  });

  it('fails, without crashing, on a missing file, a module that throws on load, or no default export', async () => {
    const missing = await checker.run(target(), custom('./does-not-exist.mjs'), { timeoutMs: 5000 });
    expect(missing.ok).toBe(false);
    expect(missing.detail).toMatch(/^custom module \.\/does-not-exist\.mjs failed to load: /);
    const loadError = await checker.run(target(), custom('./load-error.mjs'), { timeoutMs: 5000 });
    expect(loadError).toMatchObject({ ok: false, detail: 'custom module ./load-error.mjs failed to load: cannot initialise fixture' });
    expect(await checker.run(target(), custom('./no-default.mjs'), { timeoutMs: 5000 })).toMatchObject({
      ok: false,
      detail: 'custom module ./no-default.mjs has no default export function',
    });
    // Still healthy afterwards.
    expect(await checker.run(target(), custom('./ok.mjs'), { timeoutMs: 5000 })).toMatchObject({ ok: true });
  });

  it('loads a module once', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => checker.run(target(), custom('./ok.mjs'), { timeoutMs: 5000 })));
    expect(results.every((r) => r.ok)).toBe(true);
  });
});
