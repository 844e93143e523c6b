import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const committed = join(repo, 'src/generated');
const fresh = mkdtempSync(join(tmpdir(), 'healthmesh-gen-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();

describe('src/generated', () => {
  it('is what `npm run gen:proto` makes of proto/ and the Envoy protos in use (regenerate after changing them)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-proto.ts', '--out', fresh], { cwd: repo, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const names = files(committed);
    expect(files(fresh)).toEqual(names);
    const stale = names.filter((n) => readFileSync(join(fresh, n), 'utf8') !== readFileSync(join(committed, n), 'utf8'));
    expect(stale).toEqual([]);
  }, 60_000);
});
