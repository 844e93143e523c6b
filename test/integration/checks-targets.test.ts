import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckConfig } from '../../src/config/schema.js';
import { createChecker } from '../../src/checks/index.js';
import type { Lookup } from '../../src/checks/targets.js';
import { silentLogger } from '../../src/log.js';
import { loopStall } from '../support/stall.js';

const ALLOW_HINT = '(allow it with health.allowTargets)';
const METADATA = `cloud metadata address ${ALLOW_HINT}`;
/** Any refusal names the allowlist that would lift it. */
const refusedPattern = (address: string): RegExp =>
  new RegExp(`target ${address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} refused: .+ \\(allow it with health\\.allowTargets\\)$`);
const httpCheck: CheckConfig = { http: { method: 'GET', path: '/healthz', https: false, expectedStatuses: ['200-399'] } };

let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** A resolver where `rebind.test` points at the metadata address and `app.test` at our real server. */
const fakeDns: Lookup = async (name) => {
  if (name === 'rebind.test') return [{ address: '169.254.169.254', family: 4 }];
  if (name === 'app.test') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

describe('probe target policy, end to end', () => {
  it.each<[string, CheckConfig]>([
    ['169.254.169.254', httpCheck],
    ['169.254.169.254', { tcp: {} }],
    ['169.254.169.254', { grpc: { service: '' } }],
    ['169.254.169.254', { custom: { module: './never-loaded.mjs' } }],
    ['fd00:ec2::254', { tcp: {} }],
    ['fe80::1', httpCheck],
    ['100.100.100.200', { tcp: {} }],
    ['metadata.google.internal', httpCheck],
    ['metadata', { tcp: {} }],
    // issue 10 finding 11: IPv6 forms that reach 169.254.169.254 (NAT64, IPv4-compatible, mapped)
    ['64:ff9b::a9fe:a9fe', httpCheck],
    ['64:ff9b::169.254.169.254', { tcp: {} }],
    ['::169.254.169.254', httpCheck],
    ['::a9fe:a9fe', { tcp: {} }],
    ['::ffff:169.254.169.254', httpCheck],
    ['[64:ff9b::a9fe:a9fe]', { tcp: {} }],
  ])('refuses %s (%j) without connecting', async (address, check) => {
    const checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger(), lookup: fakeDns });
    try {
      const stall = loopStall();
      const t0 = performance.now();
      const r = await checker.run({ address, port: 80 }, check, { timeoutMs: 5000 });
      const took = performance.now() - t0;
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(refusedPattern(address));
      // Refused up front, not timed out: well under the 5 s timeout, plus whatever this process's loop stalled.
      expect(r.timedOut).toBeUndefined();
      const stalled = await stall.maxMs();
      stall.stop();
      expect(took, `event loop stalled up to ${stalled.toFixed(0)} ms`).toBeLessThan(500 + stalled);
    } finally {
      await checker.close();
    }
  });

  it('refuses a name that resolves to a metadata address', async () => {
    const checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger(), lookup: fakeDns });
    try {
      expect(await checker.run({ address: 'rebind.test', port }, httpCheck, { timeoutMs: 5000 })).toMatchObject({
        ok: false,
        detail: `target rebind.test refused: resolves to 169.254.169.254: ${METADATA}`,
      });
    } finally {
      await checker.close();
    }
  });

  it('connects to the resolved address of an allowed name, sending the name as Host', async () => {
    const checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger(), lookup: fakeDns });
    try {
      const before = hits;
      expect(await checker.run({ address: 'app.test', port }, httpCheck, { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'HTTP 200' });
      expect(hits).toBe(before + 1);
      expect(await checker.run({ address: 'nx.test', port }, httpCheck, { timeoutMs: 5000 })).toMatchObject({
        ok: false,
        detail: 'cannot resolve nx.test: ENOTFOUND',
      });
    } finally {
      await checker.close();
    }
  });

  it('lets allowTargets open a refused target up (the probe then really runs)', async () => {
    // Only 127.0.0.1 is ever dialled in tests: "metadata" resolves to our local server here.
    const dns: Lookup = async (name) => (name === 'metadata' ? [{ address: '127.0.0.1', family: 4 }] : fakeDns(name));
    const refused = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger(), lookup: dns });
    const allowed = createChecker({ allowTargets: ['metadata'], baseDir: process.cwd(), logger: silentLogger(), lookup: dns });
    try {
      const before = hits;
      expect(await refused.run({ address: 'metadata', port }, httpCheck, { timeoutMs: 5000 })).toMatchObject({ ok: false });
      expect(hits).toBe(before);
      expect(await allowed.run({ address: 'metadata', port }, httpCheck, { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'HTTP 200' });
      expect(hits).toBe(before + 1);
    } finally {
      await Promise.all([refused.close(), allowed.close()]);
    }
  });

  it('refuses to build a checker with a malformed allowTargets entry', () => {
    expect(() => createChecker({ allowTargets: ['10.0.0.0/99'], baseDir: process.cwd(), logger: silentLogger() })).toThrow(
      'health.allowTargets[0]: "10.0.0.0/99": prefix length 99 is too long for IPv4 (max 32)',
    );
  });
});
