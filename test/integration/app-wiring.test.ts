import { connect, createServer, type Server } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { StartError } from '../../src/errors.js';
import { callStatus, createStatusClient } from '../../src/status/proto.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { testConfig } from '../support/config.js';
import { waitFor } from '../support/wait.js';

/**
 * The composition root (src/app.ts): the services on one gRPC server per port, the ordered start and
 * stop, and what a failing start does. Real servers on 127.0.0.1 only.
 */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(app: Healthmesh): Healthmesh {
  cleanups.push(() => app.stop());
  return app;
}

const HealthClient = grpc.makeClientConstructor(healthServiceDefinition as unknown as grpc.ServiceDefinition, 'Health');
function healthCheck(port: number, service = ''): Promise<{ status: string }> {
  const c = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<{ status: string }>((resolve, reject) =>
    (c as unknown as { check: (r: object, o: object, cb: (e: Error | null, r: { status: string }) => void) => void }).check(
      { service },
      { deadline: Date.now() + 5000 },
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  ).finally(() => c.close());
}

async function listClusters(port: number): Promise<string[]> {
  const client = createStatusClient(`127.0.0.1:${port}`);
  try {
    return (await callStatus(client, 'ListClusters', {})).clusters.map((c) => c.name);
  } finally {
    client.close();
  }
}

/** Whether a TCP connection to 127.0.0.1:port is accepted. */
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function backend(): Promise<Backend> {
  const [b] = await startHttpBackends(1);
  cleanups.push(() => b!.close());
  return b!;
}

describe('composition root', () => {
  it('status.listen: Status, grpc.health.v1 and reflection on their own server; the xDS port serves neither', async () => {
    const app = track(createHealthmesh(testConfig({ status: { listen: '127.0.0.1:0' }, clusters: [{ name: 'demo' }] })));
    const { xdsPort, statusPort } = await app.start();
    expect(statusPort).not.toBe(xdsPort);
    expect(await listClusters(statusPort)).toEqual(['demo']);
    await waitFor(async () => (await healthCheck(statusPort)).status === 'SERVING', { timeoutMs: 5000, intervalMs: 20, what: 'SERVING on the status port' });
    await expect(listClusters(xdsPort)).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    await expect(healthCheck(xdsPort)).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });

    await app.stop();
    expect(await accepts(statusPort)).toBe(false);
    expect(await accepts(xdsPort)).toBe(false);
  });

  it('without status.listen every service shares the xDS port', async () => {
    const app = track(createHealthmesh(testConfig({ clusters: [{ name: 'demo' }] })));
    const { xdsPort, statusPort } = await app.start();
    expect(statusPort).toBe(xdsPort);
    expect(await listClusters(xdsPort)).toEqual(['demo']);
    await waitFor(async () => (await healthCheck(xdsPort, 'healthmesh.v1.Status')).status === 'SERVING', {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'SERVING on the xDS port',
    });
  });

  it('a start that fails names the component, stops what had started, and stop() afterwards is a no-op', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const takenPort = (taken.address() as { port: number }).port;
    const app = track(createHealthmesh(testConfig({ status: { listen: `127.0.0.1:${takenPort}` }, clusters: [{ name: 'demo' }] })));

    const err = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartError);
    expect(err).toMatchObject({ component: 'status', code: 'UNAVAILABLE' });
    expect((err as Error).message).toMatch(new RegExp(`^status: cannot listen on 127\\.0\\.0\\.1:${takenPort}: `));
    // The xDS server had started (it comes before status): it is closed again, and so is the store (first in the list).
    const xdsPort = app.controlPlane.grpc.port;
    expect(xdsPort).toBeGreaterThan(0);
    expect(await accepts(xdsPort)).toBe(false);
    expect(() => app.store.registrations()).toThrow();
    await app.stop();
  });

  it('metrics count each completed check under its kind (the engine knows an endpoint check from a dependency check)', async () => {
    const b = await backend();
    const app = track(
      createHealthmesh(
        testConfig({
          clusters: [
            {
              name: 'web',
              healthCheck: { check: { tcp: {} }, intervalMs: 500, timeoutMs: 500 },
              dependencies: [{ name: 'db', address: '127.0.0.1', port: b.port, check: { tcp: {} }, timeoutMs: 500 }],
              endpoints: [{ address: '127.0.0.1', port: b.port }],
            },
          ],
        }),
      ),
    );
    const seen: string[] = [];
    app.onProbe((id) => seen.push(id));
    await app.start();
    const count = (text: string, kind: string): number =>
      Number(new RegExp(`^healthmesh_checks_total\\{kind="${kind}",result="ok"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const text = await waitFor(
      async () => {
        const t = await app.metrics.text();
        return count(t, 'tcp') > 0 && count(t, 'dependency') > 0 && t;
      },
      { timeoutMs: 5000, what: 'a tcp and a dependency check counted' },
    );
    expect(count(text, 'http')).toBe(0);
    expect(seen).toEqual(expect.arrayContaining([`web/127.0.0.1:${b.port}`, 'dep:web/db']));
  });
});
