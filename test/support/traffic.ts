export interface SharesOptions {
  /** Requests in flight at once, default 10. */
  concurrency?: number;
  /** Per-request timeout, default 5000 ms. */
  timeoutMs?: number;
}

export interface Shares {
  /** Successful (2xx) responses per backend name (`x-backend` header, else the body). */
  counts: Record<string, number>;
  /** Non-2xx responses plus network errors/timeouts. */
  errors: number;
  /** Requests sent (= n). */
  total: number;
  /** Outcome tally for debugging: status code (`'200'`, `'503'`, ...) or `'network'`. */
  statuses: Record<string, number>;
  /** counts[name] / total (0 if none). */
  share(name: string): number;
}

/** Sends n GETs to url (e.g. an Envoy listener) and tallies which backend answered each. */
export async function shares(url: string, n: number, opts: SharesOptions = {}): Promise<Shares> {
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 10, n));
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const counts: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const bump = (rec: Record<string, number>, k: string) => (rec[k] = (rec[k] ?? 0) + 1);

  const worker = async () => {
    while (next < n) {
      next++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const body = await res.text();
        bump(statuses, String(res.status));
        if (res.status >= 200 && res.status < 300) bump(counts, res.headers.get('x-backend') ?? body.trim());
        else errors++;
      } catch {
        bump(statuses, 'network');
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  return {
    counts,
    errors,
    total: n,
    statuses,
    share: (name) => (n === 0 ? 0 : (counts[name] ?? 0) / n),
  };
}

export interface RunningTraffic {
  /** Successful (2xx) and failed (other status, network error, timeout) requests so far. */
  readonly tally: { ok: number; errors: number };
  /** Every answer: when and which backend (for diagnostics). The oldest are dropped past 20,000. */
  readonly answers: Array<{ at: number; backend: string; status: number }>;
  /** Stop sending and wait for the requests in flight. */
  stop(): Promise<{ ok: number; errors: number }>;
}

/** Sends GETs to `url` continuously, `concurrency` in flight, until stopped (traffic during a test's events). */
export function startTraffic(url: string, opts: { concurrency?: number; timeoutMs?: number } = {}): RunningTraffic {
  let running = true;
  const tally = { ok: 0, errors: 0 };
  const answers: RunningTraffic['answers'] = [];
  const done = Promise.all(
    Array.from({ length: opts.concurrency ?? 2 }, async () => {
      while (running) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
          await res.text();
          answers.push({ at: Date.now(), backend: res.headers.get('x-backend') ?? '?', status: res.status });
          if (answers.length > 20_000) answers.splice(0, 10_000);
          if (res.ok) tally.ok++;
          else tally.errors++;
        } catch {
          tally.errors++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }),
  );
  return {
    tally,
    answers,
    async stop() {
      running = false;
      await done;
      return { ...tally };
    },
  };
}
