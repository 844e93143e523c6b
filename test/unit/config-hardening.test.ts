/**
 * Issue 10: what `validate` must refuse so that it agrees with `serve` (and a SIGHUP reload applies
 * all or nothing), and what must never reach a client (Envoy NACKs, gRPC clients' NACKs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_CONFIG_BYTES, loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

function issuesOf(text: string, file = 'test.yaml'): ConfigIssue[] {
  try {
    parseConfigText(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'hm-cfg-hard-'));
const validate = (file: string) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'validate', file], { cwd: ROOT, encoding: 'utf8' });

/** A proxyless target (`api` listener) routed to cluster `c`, and a tcp listener routed to `t`. */
const topology = (lbC: string, lbT = 'ROUND_ROBIN'): string => `
listeners:
  - { name: grpc-target, kind: api, routeConfig: rc-api }
  - { name: edge, kind: tcp, port: 10000, routeConfig: rc-tcp }
routes:
  - { name: rc-api, virtualHosts: [{ name: v, routes: [{ prefix: /, cluster: c }] }] }
  - { name: rc-tcp, virtualHosts: [{ name: v, routes: [{ prefix: /, cluster: t }] }] }
clusters:
  - { name: c, lbPolicy: ${lbC}, endpoints: [{ address: 10.0.0.1, port: 80 }] }
  - { name: t, lbPolicy: ${lbT}, endpoints: [{ address: 10.0.0.2, port: 80 }] }
`;

describe('endpoint addresses (findings 2 and 11)', () => {
  it.each([
    ['localhost', /must be an IP address, not a host name .*malformed IP address/],
    ['backend.svc.cluster.local', /not a host name/],
    ['169.254.169.254', /169\.254\.169\.254 refused: cloud metadata address \(allow it with health\.allowTargets\)/],
    ['64:ff9b::a9fe:a9fe', /NAT64 64:ff9b::\/96 form of 169\.254\.169\.254/],
    ['"::169.254.169.254"', /IPv4-compatible ::\/96 form of 169\.254\.169\.254/],
    ['fe80::1', /link-local address/],
    ['0.0.0.0', /unspecified address/],
    ['239.1.1.1', /multicast address/],
  ])('a config endpoint %s is refused with the reason', (address, why) => {
    const issues = issuesOf(`clusters: [{ name: c, endpoints: [{ address: ${address}, port: 80 }] }]`);
    expect(issues).toContainEqual(expect.objectContaining({ path: 'clusters[0].endpoints[0].address', message: expect.stringMatching(why) }));
  });

  it('an allowlisted link-local endpoint is accepted', () => {
    const cfg = parseConfigText('health: { allowTargets: ["169.254.0.0/16"] }\nclusters: [{ name: c, endpoints: [{ address: 169.254.10.1, port: 80 }] }]');
    expect(cfg.clusters[0]?.endpoints[0]?.address).toBe('169.254.10.1');
  });

  it('dependency targets: names are fine, metadata addresses and names are not', () => {
    expect(() => parseConfigText('clusters: [{ name: c, dependencies: [{ name: db, address: db.internal, port: 5432 }] }]')).not.toThrow();
    expect(issuesOf('clusters: [{ name: c, dependencies: [{ name: m, address: metadata.google.internal, port: 80 }] }]')).toContainEqual(
      expect.objectContaining({ path: 'clusters[0].dependencies[0].address', message: expect.stringMatching(/cloud metadata host name/) }),
    );
    expect(issuesOf('clusters: [{ name: c, dependencies: [{ name: m, address: 169.254.169.254, port: 80 }] }]')).toContainEqual(
      expect.objectContaining({ path: 'clusters[0].dependencies[0].address' }),
    );
  });

  it('a tcp listener address must be an IP literal (Envoy binds it)', () => {
    const issues = issuesOf(
      'listeners: [{ name: l, address: localhost, port: 1, routeConfig: r }]\nroutes: [{ name: r, virtualHosts: [{ name: v, routes: [{ cluster: c }] }] }]\nclusters: [{ name: c }]',
    );
    expect(issues).toContainEqual(expect.objectContaining({ path: 'listeners[0].address', value: 'localhost' }));
  });

  it('endpoint bounds are the registration bounds', () => {
    const issues = issuesOf(
      'clusters: [{ name: c, endpoints: [{ address: 10.0.0.1, port: 80, weight: 1001, zone: "a\\u0007", metadata: { "bad key": x } }] }]',
    );
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['clusters[0].endpoints[0].weight', 'clusters[0].endpoints[0].zone', 'clusters[0].endpoints[0].metadata.bad key']),
    );
  });
});

describe('validate and serve agree (finding 6)', () => {
  it.each(['10.0.0.0/99', 'not an address', '300.1.1.1/8', '169.254.0.0/x'])('a malformed allowTargets entry %j is refused naming its index', (entry) => {
    expect(issuesOf(`health: { allowTargets: ["127.0.0.1", ${JSON.stringify(entry)}] }`)).toContainEqual(
      expect.objectContaining({ path: 'health.allowTargets[1]', value: entry }),
    );
  });

  it('`healthmesh validate` exits 2 on the file that made serve exit 1', () => {
    const file = join(tmp(), 'cidr.yaml');
    writeFileSync(file, 'health:\n  allowTargets: ["169.254.0.0/33"]\nclusters:\n  - name: demo\n    endpoints: [{ address: 127.0.0.1, port: 9101 }]\n');
    const res = validate(file);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toContain('health.allowTargets[0]');
    expect(res.stderr).toContain('prefix length 33 is too long for IPv4');
  });

  it('custom check modules must exist, relative to the config file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'present.mjs'), 'export default async () => ({ ok: true });\n');
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'clusters:\n  - name: c\n    healthCheck: { check: { custom: { module: ./present.mjs } } }\n    endpoints: [{ address: 127.0.0.1, port: 1 }]\n',
    );
    expect(loadConfigFile(good).clusters[0]?.healthCheck?.check.custom?.module).toBe('./present.mjs');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'clusters:\n  - name: c\n    healthCheck: { check: { custom: { module: ./missing.mjs } } }\n    dependencies: [{ name: d, address: 127.0.0.1, port: 1, check: { custom: { module: ./gone.mjs } } }]\n',
    );
    let err: unknown;
    try {
      loadConfigFile(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      expect.objectContaining({
        path: 'clusters[0].healthCheck.check.custom.module',
        value: './missing.mjs',
        message: expect.stringContaining(join(dir, 'missing.mjs')),
      }),
      expect.objectContaining({ path: 'clusters[0].dependencies[0].check.custom.module', value: './gone.mjs' }),
    ]);
  });

  it('status ranges outside 100..599 and check headers with line breaks are refused up front', () => {
    expect(issuesOf('clusters: [{ name: c, healthCheck: { check: { http: { expectedStatuses: ["200-999"] } } } }]')).toContainEqual(
      expect.objectContaining({ path: 'clusters[0].healthCheck.check.http.expectedStatuses[0]' }),
    );
    expect(issuesOf('clusters: [{ name: c, healthCheck: { check: { http: { expectedStatuses: ["399-200"] } } } }]')).toHaveLength(1);
    expect(issuesOf('clusters: [{ name: c, healthCheck: { check: { http: { headers: { x-a: "v\\r\\nInjected: 1" } } } } }]')).toContainEqual(
      expect.objectContaining({ path: 'clusters[0].healthCheck.check.http.headers.x-a' }),
    );
  });

  it('limits.maxEndpoints bounds the configured endpoints too', () => {
    const cfg = parseConfigText('clusters: [{ name: c, endpoints: [{ address: 10.0.0.1, port: 1 }] }]');
    expect(cfg.limits.maxEndpoints).toBe(10_000);
    expect(
      issuesOf('limits: { maxEndpoints: 1 }\nclusters: [{ name: c, endpoints: [{ address: 10.0.0.1, port: 1 }, { address: 10.0.0.2, port: 1 }] }]'),
    ).toContainEqual(expect.objectContaining({ path: 'limits.maxEndpoints', message: expect.stringContaining('declares 2 endpoints') }));
  });
});

describe('config loading (finding 9)', () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
    ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  ].join('\n');

  it('a YAML alias bomb is a ConfigError naming the file, not a ReferenceError', () => {
    const issues = issuesOf(bomb, 'bomb.yaml');
    expect(issues[0]?.message).toMatch(/YAML cannot be expanded: .*alias/i);
  });

  it('`validate` exits 2 naming the file for an alias bomb and for a file over the size limit', () => {
    const dir = tmp();
    const b = join(dir, 'bomb.yaml');
    writeFileSync(b, `${bomb}\n`);
    const r1 = validate(b);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain(b);
    expect(r1.stderr).not.toContain('ReferenceError');
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\nclusters: []\n`);
    const r2 = validate(big);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(big);
    expect(r2.stderr).toContain(`more than the ${MAX_CONFIG_BYTES} bytes`);
  });

  it('a handful of aliases is still fine', () => {
    const cfg = parseConfigText('clusters:\n  - name: c\n    endpoints: &eps [{ address: 10.0.0.1, port: 1 }]\n  - name: d\n    endpoints: *eps\n');
    expect(cfg.clusters[1]?.endpoints[0]?.address).toBe('10.0.0.1');
  });
});

describe('config that proxyless gRPC clients NACK (finding 13)', () => {
  it.each(['RANDOM', 'LEAST_REQUEST'])('lbPolicy %s on a cluster behind an api listener is refused naming the field and the clients', (policy) => {
    const issues = issuesOf(topology(policy));
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'clusters[0].lbPolicy',
        value: policy,
        message: expect.stringMatching(
          new RegExp(`lbPolicy ${policy} is rejected by proxyless gRPC clients \\(.*grpc-js-xds.*\\).*api listener "grpc-target"`),
        ),
      }),
    ]);
  });

  it('ROUND_ROBIN behind an api listener and RANDOM behind a tcp (Envoy) listener are fine', () => {
    expect(() => parseConfigText(topology('ROUND_ROBIN', 'RANDOM'))).not.toThrow();
  });
});
