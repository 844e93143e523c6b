import { isIP } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import { lazyModule } from '../lazy-module.js';
import type { CheckConfig } from '../config/schema.js';
import { bounded, clip } from './outcome.js';
import { parseStatusRanges, statusMatches, type StatusRange } from './status-ranges.js';
import type { CheckResult, CheckTarget, RunCheckOptions, Verdict } from './types.js';

export type HttpCheckConfig = NonNullable<CheckConfig['http']>;

/** At most this much of a body is read for `bodyMatch`. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpCheckerOptions {
  /** A shared keep-alive dispatcher; when given, `close()` leaves it open (its owner closes it). */
  dispatcher?: Dispatcher;
}

/** Where to send one probe: the IP to connect to, and the name it stands for (Host header / SNI). */
const undici = lazyModule<typeof import('undici')>('undici');

export interface HttpProbeTarget extends CheckTarget {
  hostname?: string;
}

/**
 * HTTP(S) checks over one keep-alive undici Agent. Redirects are never followed (a 302 is judged
 * by the status ranges); TLS is verified as usual.
 */
export class HttpChecker {
  private readonly given: Dispatcher | undefined;
  private agent: Dispatcher | undefined;
  private readonly ranges = new WeakMap<readonly string[], StatusRange[]>();
  private closing: Promise<void> | undefined;

  constructor(opts: HttpCheckerOptions = {}) {
    this.given = opts.dispatcher;
  }

  /** The given dispatcher, or this checker's own Agent (undici is loaded with the first HTTP probe). */
  private get dispatcher(): Dispatcher {
    return this.given ?? (this.agent ??= new (undici().Agent)({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, pipelining: 1 }));
  }

  /** A RunCheck for an `http` check config (a target that is a name is connected to as given). */
  run(target: HttpProbeTarget, http: HttpCheckConfig, opts: RunCheckOptions): Promise<CheckResult> {
    if (!this.closing) void this.dispatcher; // undici is loaded before the clock starts, not inside the first probe's latency
    return bounded(opts, (signal) => this.probe(target, http, signal, opts.timeoutMs));
  }

  /** The probe body: may throw; the caller bounds it. */
  async probe(target: HttpProbeTarget, http: HttpCheckConfig, signal: AbortSignal, timeoutMs: number): Promise<Verdict> {
    if (this.closing) return { ok: false, detail: 'checker closed' };
    const ranges = this.rangesFor(http.expectedStatuses);
    const host = isIP(target.address) === 6 ? `[${target.address}]` : target.address;
    const origin = `${http.https ? 'https' : 'http'}://${host}:${target.port}`;
    const headers: Record<string, string> = { 'user-agent': 'healthmesh-check', ...http.headers };
    const hostHeader = http.host ?? (target.hostname && !hasHeader(headers, 'host') ? `${target.hostname}:${target.port}` : undefined);
    if (hostHeader !== undefined) {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === 'host') delete headers[k];
      headers.host = hostHeader;
    }
    const res = await this.dispatcher.request({
      origin,
      path: http.path,
      method: http.method,
      headers,
      signal,
      // Backstops only: `signal` fires first when the probe's deadline passes.
      headersTimeout: timeoutMs + 1000,
      bodyTimeout: timeoutMs + 1000,
    });
    const status = res.statusCode;
    if (!statusMatches(status, ranges)) {
      await res.body.dump({ limit: MAX_BODY_BYTES }).catch(() => undefined);
      return { ok: false, detail: `HTTP ${status}` };
    }
    if (http.bodyMatch === undefined || http.method === 'HEAD') {
      await res.body.dump({ limit: MAX_BODY_BYTES }).catch(() => undefined);
      return { ok: true, detail: `HTTP ${status}` };
    }
    const found = await bodyContains(res.body, http.bodyMatch);
    return found ? { ok: true, detail: `HTTP ${status}` } : { ok: false, detail: `HTTP ${status} but body lacks ${JSON.stringify(clip(http.bodyMatch, 60))}` };
  }

  /** Closes the Agent if this checker created it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.agent ? this.agent.destroy().catch(() => undefined) : Promise.resolve();
    return this.closing;
  }

  private rangesFor(specs: readonly string[]): StatusRange[] {
    let r = this.ranges.get(specs);
    if (!r) {
      r = parseStatusRanges(specs);
      this.ranges.set(specs, r);
    }
    return r;
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Reads at most MAX_BODY_BYTES looking for `needle`; stops early when found. */
async function bodyContains(body: Dispatcher.ResponseData['body'], needle: string): Promise<boolean> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let size = 0;
  // Leaving the loop early (break) destroys the body: the connection is dropped, not reused.
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    const room = MAX_BODY_BYTES - size;
    const part = buf.length > room ? buf.subarray(0, room) : buf;
    size += part.length;
    const from = Math.max(0, text.length - needle.length); // the needle may straddle chunks
    text += decoder.write(part);
    if (text.includes(needle, from)) return true;
    if (size >= MAX_BODY_BYTES) return false;
  }
  return (text + decoder.end()).includes(needle);
}
