/** `healthmesh report` as a user runs it: a real process, against a real admin endpoint or a SQLite store file. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/server.js';
import { adminSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { createReportsHandler } from '../../src/reports/routes.js';
import { reportSchemas } from '../../src/reports/schema.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { freePort } from '../support/net.js';
import { HOSTILE, RANGE, seededAlerts, seededOperations, seededPoints, seededStore } from '../support/report-fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'report', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

let dir: string;
let dbFile: string;
let store: Store;
let server: AdminServer;
let admin: string;
const range = ['--from', new Date(RANGE.from).toISOString(), '--to', String(RANGE.to)];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'healthmesh-report-cli-'));
  // A store file as a running healthmesh leaves it.
  dbFile = join(dir, 'data', 'healthmesh.db');
  const file = openSqliteStore(dbFile);
  file.appendHistory(seededPoints());
  for (const a of seededAlerts()) file.saveAlert(a);
  file.close();

  store = seededStore();
  const ops = seededOperations();
  server = new AdminServer({
    ops,
    metrics: createMetrics(ops),
    config: adminSchema.parse({ listen: '127.0.0.1:0' }),
    logger: silentLogger(),
    env: {},
    reports: createReportsHandler(ops, store),
  });
  admin = `http://127.0.0.1:${(await server.start()).port}`;
});

afterAll(async () => {
  await server.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('healthmesh report', () => {
  it('from the admin endpoint to stdout', async () => {
    const r = await cli(['--type', 'summary', '--format', 'json', ...range, '--admin', admin]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = reportSchemas.summary.parse(JSON.parse(r.stdout));
    expect(report.meta).toMatchObject({ source: 'live', from: RANGE.from, to: RANGE.to });
    expect(report.endpoints).toHaveLength(6);
  });

  it('from the admin endpoint to a file (-o), xlsx, one cluster', async () => {
    const out = join(dir, 'detailed.xlsx');
    const r = await cli(['--type', 'detailed', '--format', 'xlsx', ...range, '--cluster', 'web', '--admin', admin, '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(out);
    const endpoints = wb.getWorksheet('endpoints')!;
    expect(endpoints.rowCount).toBe(4);
    expect(endpoints.getRow(2).getCell(2).value).toBe('web');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('offline from the SQLite store file (--store)', async () => {
    const r = await cli(['--type', 'trends', '--format', 'md', ...range, '--store', dbFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# healthmesh: Trends report/);
    expect(r.stdout).toContain('| Source | history store (offline) |');
    expect(r.stdout).toMatch(/web\/10\.0\.0\.1:8080: memory reaches 90% in \\~(2 h|\d+ min)/);

    const csv = await cli(['--type', 'alerts', '--format', 'csv', ...range, '--store', dbFile]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toContain(`"'${HOSTILE.formula.replace(/"/g, '""')}"`);
  });

  it('an admin error is one line naming the field, exit 1', async () => {
    const r = await cli(['--type', 'summary', ...range, '--cluster', 'nope', '--admin', admin]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^healthmesh report: 400: cluster: unknown cluster "nope"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('bad options and an unreachable endpoint fail clearly', async () => {
    const port = await freePort();
    const [badTime, unreachable, missing] = await Promise.all([
      cli(['--type', 'summary', '--from', 'yesterday']),
      cli(['--type', 'alerts', '--admin', `http://127.0.0.1:${port}`, '--timeout-ms', '5000']),
      cli(['--type', 'alerts', '--store', join(dir, 'nope.db')]),
    ]);
    expect(badTime.code).not.toBe(0);
    expect(badTime.stderr).toMatch(/--from.*ISO 8601/);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the admin endpoint http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no store file at .*nope\.db/);
    expect(existsSync(join(dir, 'nope.db'))).toBe(false);
  });

  it('--help lists the options', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const o of ['--type', '--format', '--from', '--to', '--cluster', '--table', '--output', '--admin', '--store']) expect(r.stdout).toContain(o);
    expect(readFileSync(join(ROOT, 'src/cli.ts'), 'utf8')).toContain('program.addCommand(reportCommand());');
  });
});
