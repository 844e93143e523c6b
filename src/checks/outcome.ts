import type { CheckResult, RunCheckOptions, Verdict } from './types.js';

/** Longest detail we keep: details end up in logs, status pages and reports. */
const MAX_DETAIL = 300;

export function clip(s: string, max = MAX_DETAIL): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ETIMEDOUT: 'connect timed out',
  EPIPE: 'connection closed',
  EADDRNOTAVAIL: 'address not available',
  UND_ERR_SOCKET: 'connection closed by peer',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  UND_ERR_INFO: 'bad response',
  HPE_INVALID_CONSTANT: 'invalid HTTP response',
  HPE_INVALID_STATUS: 'invalid HTTP response',
};

/** A short, stable description of an error thrown by a probe ("connection refused", "TLS: self-signed certificate"). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') {
      const known = CODES[code];
      if (known) return known;
      if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('DEPTH_ZERO')) return clip(`TLS: ${err.message}`);
    }
    return clip(err.message || err.name);
  }
  return clip(String(err));
}

export const timeoutDetail = (timeoutMs: number): string => `timeout after ${timeoutMs} ms`;

/**
 * Runs a probe body under a hard deadline and the caller's signal, and turns whatever happens
 * into a CheckResult. The body gets a signal that aborts on timeout or caller abort so it can
 * release sockets; the result does not wait for it to do so.
 */
export function bounded(opts: RunCheckOptions, body: (signal: AbortSignal) => Promise<Verdict>, elapsed: () => number = stopwatch()): Promise<CheckResult> {
  const timeoutMs = Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0 ? opts.timeoutMs : 1;
  const outer = opts.signal;
  const inner = new AbortController();
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    const finish = (v: Verdict, timedOut = false): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      const result: CheckResult = { ok: v.ok, detail: clip(v.detail), latencyMs: round(elapsed()) };
      if (timedOut) result.timedOut = true;
      resolve(result);
    };
    const onAbort = (): void => {
      inner.abort(outer?.reason);
      finish({ ok: false, detail: 'aborted' });
    };
    if (outer?.aborted) {
      onAbort();
      return;
    }
    outer?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      inner.abort(new Error(timeoutDetail(timeoutMs)));
      finish({ ok: false, detail: timeoutDetail(timeoutMs) }, true);
    }, timeoutMs);
    let p: Promise<Verdict>;
    try {
      p = body(inner.signal);
    } catch (err) {
      finish({ ok: false, detail: describeError(err) });
      return;
    }
    p.then(
      (v) => finish(v),
      (err: unknown) => finish({ ok: false, detail: describeError(err) }),
    );
  });
}

/** Milliseconds since the call, on the monotonic clock. */
export function stopwatch(): () => number {
  const t0 = performance.now();
  return () => performance.now() - t0;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
