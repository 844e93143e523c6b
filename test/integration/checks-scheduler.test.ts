import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckConfig } from '../../src/config/schema.js';
import type { ProbeOutcome } from '../../src/core/model.js';
import { createChecker, type Checker } from '../../src/checks/index.js';
import { ProbeScheduler } from '../../src/checks/scheduler.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../support/wait.js';

const INTERVAL_MS = 500;
const TIMEOUT_MS = 300;
const HEALTHY = 50;
const HANGING = 10;
/** Runs per job to wait for: ~5 s of probing at 500 ms. */
const RUNS = 10;

const CHILD = resolve(fileURLToPath(import.meta.url), '../../fixtures/checks/backends-child.ts');
const httpCheck: CheckConfig = { http: { method: 'GET', path: '/healthz', https: false, expectedStatuses: ['200-399'] } };

let child: ChildProcess;
let backends: Array<{ name: string; port: number }>;
let checker: Checker;

beforeAll(async () => {
  // The backends (test/support/backends.ts) run in a child process, as remote hosts would: this
  // process's event loop then carries only the probing side, which is what is being measured.
  child = fork(CHILD, [String(HEALTHY + HANGING), String(HANGING)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [msg] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`backends child exited with ${String(code)}`))),
  ])) as [{ backends: Array<{ name: string; port: number }> }];
  backends = msg.backends;
  checker = createChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger() });
}, 30_000);

afterAll(async () => {
  await checker?.close();
  if (child && child.exitCode === null) {
    const exited = once(child, 'exit');
    child.send('close');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

describe('ProbeScheduler with real HTTP checks', () => {
  it('keeps healthy probes on schedule while hanging endpoints time out (50 healthy + 10 hung, cap 16)', async () => {
    const outcomes = new Map<string, ProbeOutcome[]>();
    let active = 0;
    let peak = 0;
    const scheduler = new ProbeScheduler({
      run: async (target, check, opts) => {
        peak = Math.max(peak, ++active);
        try {
          return await checker.run(target, check, opts);
        } finally {
          active--;
        }
      },
      concurrency: 16,
      onResult: (id, o) => {
        const list = outcomes.get(id) ?? [];
        list.push(o);
        outcomes.set(id, list);
      },
    });
    const ids = backends.map((b) => b.name);
    backends.forEach((b) =>
      scheduler.upsert({
        id: b.name,
        target: { address: '127.0.0.1', port: b.port },
        check: httpCheck,
        intervalMs: INTERVAL_MS,
        timeoutMs: TIMEOUT_MS,
        jitterPercent: 10,
      }),
    );
    // Event-loop delay is recorded so that a failure caused by a starved machine (not the scheduler) is recognisable.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    scheduler.start();
    await waitFor(() => ids.every((id) => (outcomes.get(id)?.length ?? 0) >= RUNS), {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: `${RUNS} probe results for each of ${ids.length} jobs`,
    });
    await scheduler.stop();
    loopDelay.disable();
    const stats = scheduler.stats();

    const healthy = ids.slice(0, HEALTHY);
    const hung = ids.slice(HEALTHY);
    const healthyLag = Math.max(...healthy.map((id) => scheduler.jobStats(id)!.maxLagMs));
    const hungLag = Math.max(...hung.map((id) => scheduler.jobStats(id)!.maxLagMs));
    const healthyLatencies = healthy.flatMap((id) => outcomes.get(id)!.map((o) => o.latencyMs)).sort((a, b) => a - b);
    const report = JSON.stringify({
      stats,
      peakInFlight: peak,
      healthyLatencyMs: { p50: healthyLatencies[Math.floor(healthyLatencies.length * 0.5)], p99: healthyLatencies[Math.floor(healthyLatencies.length * 0.99)] },
      slowHealthy: healthy
        .flatMap((id) =>
          outcomes
            .get(id)!
            .filter((o) => o.latencyMs > 100)
            .map((o) => `${o.detail} ${o.latencyMs}`),
        )
        .slice(0, 10),
      healthyMaxLagMs: Math.round(healthyLag),
      hungMaxLagMs: Math.round(hungLag),
      eventLoopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) },
    });

    // Healthy endpoints keep their schedule: lag under 10% of the interval plus 50 ms, plus whatever the
    // event loop itself stalled (a starved machine delays every timer; that is not the scheduler's doing).
    expect(healthyLag, report).toBeLessThan(0.1 * INTERVAL_MS + 50 + loopDelay.max / 1e6);
    // Healthy endpoints answer HTTP 200. On a machine loaded by other test files the backends' own process
    // can stall past the 300 ms timeout now and then; such a probe may time out (and only time out), and
    // only rarely: a scheduler that let hung probes hold the slots, or counted queueing against the
    // timeout, fails far more than 2% of healthy probes.
    const healthyResults = healthy.flatMap((id) => outcomes.get(id)!.map((o) => ({ id, ...o })));
    const healthyFailures = healthyResults.filter((o) => !(o.ok && o.detail === 'HTTP 200'));
    expect(
      healthyFailures.every((o) => o.timedOut === true),
      `healthy probes failed other than by timeout: ${JSON.stringify(healthyFailures.slice(0, 5))}`,
    ).toBe(true);
    expect(healthyFailures.length, `${JSON.stringify(healthyFailures.slice(0, 5))} ${report}`).toBeLessThanOrEqual(
      Math.max(2, Math.floor(healthyResults.length * 0.02)),
    );
    // Hung endpoints report timeouts, each bounded by the timeout.
    for (const id of hung) {
      const list = outcomes.get(id)!;
      expect(
        list.every((o) => !o.ok && o.timedOut === true && o.detail === `timeout after ${TIMEOUT_MS} ms`),
        report,
      ).toBe(true);
      expect(Math.max(...list.map((o) => o.latencyMs)), report).toBeLessThan(TIMEOUT_MS + 150 + loopDelay.max / 1e6);
    }
    expect(peak).toBeLessThanOrEqual(16);
    expect(stats.inFlight).toBe(0);
    expect(stats.completed).toBeGreaterThanOrEqual(ids.length * RUNS);
  });
});
