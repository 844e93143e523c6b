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
