import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { waitFor } from '../support/wait.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const CHILD = join(ROOT, 'test/fixtures/store-kill-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'healthmesh-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const address = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Runs the child until it has acknowledged at least `atLeast` writes, then SIGKILLs it. */
async function runAndKill(path: string, first: number, atLeast: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(first)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: number[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('ack ')) acked.push(Number(l.slice(4)));
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, signal) => r(signal ?? code)));
  try {
    await waitFor(() => acked.length >= atLeast || child.exitCode !== null, { timeoutMs: 30_000, intervalMs: 5, what: `${atLeast} acknowledged writes` });
    expect(child.exitCode, `child exited early: ${stderr}`).toBeNull();
    child.kill('SIGKILL');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
  // Lines that reached us before the kill count as acknowledged (a partial line does not).
  return acked;
}

describe('store durability', () => {
  it('every registration acknowledged before kill -9 is in the file, across repeated kills', async () => {
    const path = join(dir, 'kill', 'healthmesh.db');
    let next = 0;
    const allAcked: number[] = [];
    for (let round = 0; round < 3; round++) {
      const acked = await runAndKill(path, next, 200 + round * 100);
      expect(acked.length).toBeGreaterThan(0);
      allAcked.push(...acked);
      const last = acked[acked.length - 1] ?? -1;
      next = last + 1_000; // leave a gap so each round's writes are distinct

      const store = openSqliteStore(path);
      try {
        const present = new Set(store.registrations().map((r) => r.address));
        const missing = allAcked.filter((n) => !present.has(address(n)));
        expect(missing, `round ${round}: acknowledged but lost`).toEqual([]);
        expect(BigInt(store.versionFloor() ?? '0')).toBeGreaterThanOrEqual(BigInt(1_763_000_000_000_000 + last));
        // History is not fsynced per write, but a process kill (not a power loss) loses none of it either.
        expect(store.historyKeys({ from: 0, to: 1e12 }).length).toBeGreaterThanOrEqual(allAcked.length);
        console.log(`[store kill -9] round ${round}: ${acked.length} acknowledged, ${present.size} registrations in the file, none lost`);
      } finally {
        store.close();
      }
    }
  });
});
