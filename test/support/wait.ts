export interface WaitForOptions {
  timeoutMs: number;
  /** Poll interval, default 100 ms. */
  intervalMs?: number;
  /** Describes the condition, used in the timeout error. */
  what: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describe(v: unknown): string {
  if (v instanceof Error) return `threw ${v.message}`;
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 2000 ? `${s.slice(0, 2000)}...` : s;
}

/**
 * Polls `fn` until it returns a truthy value and returns that value. Exceptions
 * count as "not yet". On timeout throws an Error naming `what` and the last
 * value or exception seen.
 */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitForOptions): Promise<T> {
  const interval = opts.intervalMs ?? 100;
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`timed out after ${opts.timeoutMs}ms waiting for ${opts.what}; last: ${describe(last)}`, {
        cause: last instanceof Error ? last : undefined,
      });
    }
    await sleep(Math.min(interval, left));
  }
}
