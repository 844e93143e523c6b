/**
 * Issue 10, against a real running healthmesh (gRPC status service, admin HTTP, SQLite store on
 * disk, `serve` with its SIGHUP handler): host names and link-local addresses refused at
 * registration, the endpoint cap, no secrets in GET /config, no file paths in errors to callers,
 * and a refused reload that changes nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { serve } from '../../src/main.js';
import { silentLogger } from '../../src/log.js';
import { callStatus, createStatusClient, type StatusClient } from '../../src/status/proto.js';
import { bearer, TEST_TOKENS } from '../support/auth.js';
import { testConfig } from '../support/config.js';

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function start(raw: Record<string, unknown>, store?: string): Promise<{ app: Healthmesh; client: StatusClient; admin: string }> {
  const app = createHealthmesh(testConfig({ ...raw, admin: { enabled: true, listen: '127.0.0.1:0' }, ...(store ? { store: { path: store } } : {}) }));
  const { statusPort, adminPort } = await app.start();
  stops.push(() => app.stop());
  const client = createStatusClient(`127.0.0.1:${statusPort}`);
  stops.push(() => client.close());
  return { app, client, admin: `http://127.0.0.1:${adminPort}` };
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

const cluster = (extra: Record<string, unknown> = {}) => ({ name: 'demo', endpoints: [{ address: '127.0.0.1', port: 9 }], ...extra });

describe('registration at the edge (findings 2, 3 and 11)', () => {
  it('refuses a host name with INVALID_ARGUMENT naming the field, and publishes nothing', async () => {
    const { app, client } = await start({ clusters: [cluster()] });
    const err = await failure(
      callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: 'localhost', port: 8080 }, 5000, bearer(TEST_TOKENS.operator)),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^address: must be an IP address, not a host name .*malformed IP address/);
    expect(app.controlPlane.topology.endpoints('demo').map((e) => e.address)).toEqual(['127.0.0.1']);
  });

  it('refuses link-local and metadata addresses in every form unless allowlisted', async () => {
    const { client } = await start({ clusters: [cluster()] });
    for (const address of ['169.254.169.254', '64:ff9b::a9fe:a9fe', '::169.254.169.254', '::ffff:169.254.169.254', 'fe80::1', 'fd00:ec2::254']) {
      const err = await failure(callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address, port: 80 }, 5000, bearer(TEST_TOKENS.operator)));
      expect(err.code, address).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details, address).toMatch(/^address: .* refused: .*allow it with health\.allowTargets/);
    }
    const allowed = await start({ clusters: [cluster()], health: { allowTargets: ['169.254.10.0/24'] } });
    const ok = await callStatus(allowed.client, 'RegisterEndpoint', { cluster: 'demo', address: '169.254.10.7', port: 80 }, 5000, bearer(TEST_TOKENS.operator));
    expect(ok.created).toBe(true);
    expect(allowed.app.controlPlane.topology.endpoints('demo').map((e) => e.address)).toContain('169.254.10.7');
  });

  it('caps registered + configured endpoints at limits.maxEndpoints with RESOURCE_EXHAUSTED', async () => {
    const { app, client } = await start({ clusters: [cluster()], limits: { maxEndpoints: 3 } });
    await callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: '10.0.0.1', port: 80 }, 5000, bearer(TEST_TOKENS.operator));
    await callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: '10.0.0.2', port: 80 }, 5000, bearer(TEST_TOKENS.operator));
    const err = await failure(callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: '10.0.0.3', port: 80 }, 5000, bearer(TEST_TOKENS.operator)));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toContain('limits.maxEndpoints');
    // re-registering an existing endpoint (an update) is not a new one
    await expect(
      callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: '10.0.0.2', port: 80, weight: 5 }, 5000, bearer(TEST_TOKENS.operator)),
    ).resolves.toMatchObject({ created: false });
    await callStatus(client, 'DeregisterEndpoint', { cluster: 'demo', address: '10.0.0.1', port: 80 }, 5000, bearer(TEST_TOKENS.operator));
    await expect(
      callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: '10.0.0.3', port: 80 }, 5000, bearer(TEST_TOKENS.operator)),
    ).resolves.toMatchObject({ created: true });
    expect(app.controlPlane.topology.endpoints('demo')).toHaveLength(3);
  });
});

describe('GET /config redacts secrets (finding 7)', () => {
  it('hides check headers, the webhook path and query, and the admin token', async () => {
    const { admin } = await start({
      clusters: [
        cluster({
          healthCheck: {
            check: { http: { path: '/healthz', headers: { authorization: 'Bearer s3cr3t-probe', 'x-api-key': 'k3y-value' } } },
            intervalMs: 60_000,
          },
          dependencies: [{ name: 'db', address: '127.0.0.1', port: 9, check: { http: { headers: { cookie: 'session=abc123' } } } }],
        }),
      ],
      alerts: { webhook: { url: 'http://127.0.0.1:9/services/T0000/B0000/XyZsEcReTpAtH?token=qs-secret#frag' } },
    });
    const res = await fetch(`${admin}/config`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of ['s3cr3t-probe', 'k3y-value', 'session=abc123', 'XyZsEcReTpAtH', 'qs-secret', 'T0000', 'frag']) expect(text).not.toContain(secret);
    const body = JSON.parse(text) as {
      alerts: { webhook: { url: string } };
      clusters: Array<{ healthCheck: { check: { http: { headers: Record<string, string> } } } }>;
    };
    expect(body.alerts.webhook.url).toBe('http://127.0.0.1:9/[redacted]');
    expect(body.clusters[0]?.healthCheck.check.http.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
  });
});

describe('errors to callers carry no file paths (finding 10)', () => {
  it('a failing store answers UNAVAILABLE over gRPC and 503 over HTTP without its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-disclose-'));
    const path = join(dir, 'state.db');
    const { app, client, admin } = await start({ clusters: [cluster()] }, path);
    app.store.close();
    const err = await failure(callStatus(client, 'RegisterEndpoint', { cluster: 'demo', address: '10.0.0.9', port: 80 }, 5000, bearer(TEST_TOKENS.operator)));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toMatch(/^store unavailable: applyRegistrations failed \(closed\)/);
    expect(err.details).not.toContain(dir);
    const res = await fetch(`${admin}/status/demo/${encodeURIComponent('127.0.0.1:9')}`);
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toContain('store unavailable');
    expect(body).not.toContain(dir);
  });
});

describe('a refused SIGHUP reload changes nothing (finding 6)', () => {
  it('an invalid allowTargets CIDR is refused by the loader before any part applies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-reload-'));
    const file = join(dir, 'healthmesh.yaml');
    const base = ['xds: { listen: "127.0.0.1:0" }', 'admin: { enabled: false }', 'store: { path: ":memory:" }', 'log: { level: silent }'];
    writeFileSync(file, [...base, 'clusters:', '  - { name: one, endpoints: [{ address: 127.0.0.1, port: 9 }] }'].join('\n'));
    const running = await serve(file, silentLogger());
    stops.push(() => running.stop());
    writeFileSync(
      file,
      [
        ...base,
        'health: { allowTargets: ["169.254.0.0/33"] }',
        'clusters:',
        '  - { name: one, endpoints: [{ address: 127.0.0.1, port: 9 }] }',
        '  - { name: two, endpoints: [{ address: 127.0.0.1, port: 10 }] }',
      ].join('\n'),
    );
    process.emit('SIGHUP', 'SIGHUP');
    expect(running.app.controlPlane.topology.clusterNames()).toEqual(['one']);
    expect((running.app.service.config() as { clusters: Array<{ name: string }> }).clusters.map((c) => c.name)).toEqual(['one']);
    // the corrected file applies
    writeFileSync(
      file,
      [
        ...base,
        'clusters:',
        '  - { name: one, endpoints: [{ address: 127.0.0.1, port: 9 }] }',
        '  - { name: two, endpoints: [{ address: 127.0.0.1, port: 10 }] }',
      ].join('\n'),
    );
    process.emit('SIGHUP', 'SIGHUP');
    expect(running.app.controlPlane.topology.clusterNames()).toEqual(['one', 'two']);
  });
});
