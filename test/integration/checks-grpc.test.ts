import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChecker, type Checker } from '../../src/checks/index.js';
import { GrpcChecker } from '../../src/checks/grpc.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../support/net.js';

interface HealthServer {
  port: number;
  health: HealthImplementation;
  close(): void;
}

async function startHealthServer(port = 0): Promise<HealthServer> {
  const health = new HealthImplementation({ '': 'SERVING', 'echo.Echo': 'SERVING', 'db.Primary': 'NOT_SERVING', 'cache.Warm': 'UNKNOWN' });
  const server = new grpc.Server();
  health.addToServer(server);
  const bound = await new Promise<number>((res, rej) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  return { port: bound, health, close: () => server.forceShutdown() };
}

const grpcCheck = (service: string) => ({ grpc: { service } });

let srv: HealthServer;
let checker: Checker;

beforeAll(async () => {
  srv = await startHealthServer();
  checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger() });
});

afterAll(async () => {
  await checker.close();
  srv.close();
});

describe('gRPC health check (grpc.health.v1.Health/Check)', () => {
  const target = () => ({ address: '127.0.0.1', port: srv.port });

  it('passes when SERVING (overall and per service)', async () => {
    expect(await checker.run(target(), grpcCheck(''), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'SERVING' });
    expect(await checker.run(target(), grpcCheck('echo.Echo'), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'SERVING' });
  });

  it('fails on NOT_SERVING and UNKNOWN, and follows status changes', async () => {
    expect(await checker.run(target(), grpcCheck('db.Primary'), { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'NOT_SERVING' });
    expect(await checker.run(target(), grpcCheck('cache.Warm'), { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'UNKNOWN' });
    srv.health.setStatus('db.Primary', 'SERVING');
    expect(await checker.run(target(), grpcCheck('db.Primary'), { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'SERVING' });
    srv.health.setStatus('db.Primary', 'NOT_SERVING');
  });

  it('fails on an unknown service with the RPC status', async () => {
    expect(await checker.run(target(), grpcCheck('no.Such'), { timeoutMs: 5000 })).toEqual(
      expect.objectContaining({ ok: false, detail: 'gRPC NOT_FOUND: Health status unknown for service no.Such' }),
    );
  });

  it('fails when no server listens, and sees it as soon as one does', async () => {
    const g = new GrpcChecker();
    try {
      const port = await freePort();
      const down = await g.run({ address: '127.0.0.1', port }, '', { timeoutMs: 5000 });
      expect(down.ok).toBe(false);
      expect(down.detail).toMatch(/^gRPC UNAVAILABLE/);
      expect(down.timedOut).toBeUndefined();
      expect(g.channelCount).toBe(0); // a failed channel is dropped, not left in reconnect backoff
      const up = await startHealthServer(port);
      try {
        expect(await g.run({ address: '127.0.0.1', port }, '', { timeoutMs: 5000 })).toMatchObject({ ok: true, detail: 'SERVING' });
      } finally {
        up.close();
      }
    } finally {
      await g.close();
    }
  });

  it('reuses one channel per target and closes them all', async () => {
    const g = new GrpcChecker();
    for (let i = 0; i < 5; i++) expect((await g.run({ address: '127.0.0.1', port: srv.port }, '', { timeoutMs: 5000 })).ok).toBe(true);
    expect(g.channelCount).toBe(1);
    await g.close();
    expect(g.channelCount).toBe(0);
    expect(await g.run({ address: '127.0.0.1', port: srv.port }, '', { timeoutMs: 5000 })).toMatchObject({ ok: false, detail: 'checker closed' });
  });
});
