import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startServeChild, type ServeChild } from '../support/serve-child.js';
import { waitFor } from '../support/wait.js';

/**
 * Start small (issue 13): a `serve` whose configuration does not need them does not load the
 * libraries only some set-ups use — etcd3 and cockatiel (replication), undici (HTTP checks and
 * webhooks), systeminformation (the agent), exceljs and csv-stringify (reports), ajv (fastify's schema
 * compilers: the admin routes validate with zod). A real child process.
 */
const PRELOAD = resolve(fileURLToPath(import.meta.url), '../../support/print-loaded-packages.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hm-start-small-'));
let child: ServeChild | undefined;
afterAll(async () => {
  await child?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

async function loadedPackages(c: ServeChild): Promise<string[]> {
  const before = c.log().length;
  c.proc.kill('SIGUSR2');
  const line = await waitFor(() => /loaded-packages: (\[.*\])/.exec(c.log().slice(before))?.[1], { timeoutMs: 10_000, what: 'the loaded-packages line' });
  return JSON.parse(line) as string[];
}

describe('start small', () => {
  it('loads neither replication, HTTP-check, agent nor report libraries when the config uses none of them', async () => {
    const config = join(dir, 'healthmesh.yaml');
    writeFileSync(
      config,
      [
        'xds: { listen: "127.0.0.1:0" }',
        'admin: { listen: "127.0.0.1:0" }',
        `store: { path: "${join(dir, 'state.db')}" }`,
        'clusters:',
        '  - name: tcp-only',
        '    healthCheck: { check: { tcp: {} }, intervalMs: 1000 }',
        '    endpoints: [{ address: 127.0.0.1, port: 9 }]',
        '',
      ].join('\n'),
    );
    child = await startServeChild(config, { nodeArgs: ['--import', PRELOAD] });
    const loaded = await loadedPackages(child);
    // The probe works without them: its port 9 (discard) is closed, so the check runs and fails.
    expect(loaded).toContain('@grpc/grpc-js');
    expect(loaded).toContain('better-sqlite3');
    expect(loaded).toContain('fastify'); // the admin server runs, without its JSON-schema compilers
    for (const name of ['etcd3', 'cockatiel', 'undici', 'systeminformation', 'exceljs', 'csv-stringify', 'ajv', '@fastify/ajv-compiler'])
      expect(loaded, name).not.toContain(name);
  });
});
