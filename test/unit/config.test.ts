import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

function issuesOf(text: string): Array<{ path: string; message: string; value?: unknown }> {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('config validation', () => {
  it('accepts the shipped example and freezes it', () => {
    const cfg = loadConfigFile(join(ROOT, 'examples/healthmesh.yaml'));
    expect(cfg.clusters[0]?.endpoints).toHaveLength(3);
    expect(Object.isFrozen(cfg.clusters[0])).toBe(true);
    expect(cfg.xds.debounceMs).toBe(50);
    expect(cfg.xds).toMatchObject({
      maxSubscriptionsPerStream: 10_000,
      maxNodeIdBytes: 1024,
      maxErrorDetailBytes: 4096,
      ledgerMaxUnknownTypes: 8,
      ledgerClosedStreams: 100,
      ledgerClosedBytes: 1024 * 1024,
    });
  });

  it.each([
    ['clusters: [{ name: c, endpoints: [{ address: 10.0.0.1, port: 70000 }] }]', 'clusters[0].endpoints[0].port', 70000],
    ['clusters: [{ name: c, endpoints: [{ address: 10.0.0.1, port: "x" }] }]', 'clusters[0].endpoints[0].port', 'x'],
    ['clusters: [{ name: "bad name!" }]', 'clusters[0].name', 'bad name!'],
    ['clusters: [{ name: c, lbPolicy: MAGLEV_PLUS }]', 'clusters[0].lbPolicy', 'MAGLEV_PLUS'],
    ['xds: { listen: "nowhere" }', 'xds.listen', 'nowhere'],
    ['xds: { maxNodeIdBytes: 4096 }', 'xds.maxNodeIdBytes', 4096],
    ['xds: { maxSubscriptionsPerStream: 0 }', 'xds.maxSubscriptionsPerStream', 0],
    ['clusters: [{ name: c, colour: blue }]', 'clusters[0].colour', 'blue'],
    ['listeners: [{ name: l, port: 1, routeConfig: missing }]', 'listeners[0].routeConfig', 'missing'],
    ['routes: [{ name: r, virtualHosts: [{ name: v, routes: [{ prefix: /, cluster: ghost }] }] }]', 'routes[0].virtualHosts[0].routes[0].cluster', 'ghost'],
    ['clusters: [{ name: c }, { name: c }]', 'clusters[1].name', 'c'],
    [
      'clusters: [{ name: c, endpoints: [{ address: 10.0.0.9, port: 1 }, { address: 10.0.0.9, port: 1 }] }]',
      'clusters[0].endpoints[1]',
      { address: '10.0.0.9', port: 1 },
    ],
  ])('refuses %s naming the field path and value', (text, path, value) => {
    const issues = issuesOf(text);
    expect(issues).toContainEqual(expect.objectContaining({ path, value }));
  });

  it('reports YAML syntax errors with line and column', () => {
    const issues = issuesOf('clusters: [ { name: c ');
    expect(issues[0]?.path).toMatch(/line \d+, column \d+/);
  });

  it('`healthmesh validate` exits 0 on a good file and 2 with file, path and value on a bad one', () => {
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'validate', 'examples/healthmesh.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/valid \(1 listeners, 1 route configs, 1 clusters, 3 endpoints\)/);
    const dir = mkdtempSync(join(tmpdir(), 'hm-cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clusters:\n  - name: demo\n    endpoints:\n      - { address: 127.0.0.1, port: 0 }\n');
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'validate', bad], { cwd: ROOT, encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(bad);
    expect(res.stderr).toContain('clusters[0].endpoints[0].port');
    expect(res.stderr).toContain('must be 1..65535, got 0');
  });
});
