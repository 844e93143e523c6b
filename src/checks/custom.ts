import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CheckConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { bounded, clip, describeError } from './outcome.js';
import type { CheckResult, CheckTarget, RunCheckOptions, Verdict } from './types.js';

export type CustomCheckConfig = NonNullable<CheckConfig['custom']>;

/** What a custom check module's default export receives as its target. */
export interface CustomCheckTarget extends CheckTarget {
  /** The host name the target was configured with, when it was a name (`address` is then its resolved IP). */
  hostname?: string;
}

export interface CustomCheckContext {
  /** Aborts when the probe's deadline passes: stop work and release resources. */
  signal: AbortSignal;
  options: Record<string, unknown>;
  timeoutMs: number;
}

/** The shape of a custom check module: `export default async (target, { signal, options }) => ({ ok, detail })`. */
export type CustomCheckFn = (
  target: CustomCheckTarget,
  ctx: CustomCheckContext,
) => Promise<{ ok: boolean; detail?: string }> | { ok: boolean; detail?: string };

export interface CustomCheckerOptions {
  /** Relative module paths are resolved from here (e.g. the config file's directory). */
  baseDir: string;
  logger?: Logger;
  /** A module that failed to load is retried after this long. Default 30 s. */
  retryLoadAfterMs?: number;
  now?: () => number;
}

type Loaded = { ok: true; fn: CustomCheckFn } | { ok: false; detail: string; at: number };

/**
 * Runs custom checks from JS/TS modules named in config. Each module is imported once and cached.
 * A module that fails to load, throws, returns garbage or hangs gives a failing result; nothing
 * it does escapes as an exception. Modules run in-process: they are trusted like the config.
 */
export class CustomChecker {
  private readonly modules = new Map<string, Promise<Loaded>>();
  private readonly retryLoadAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: CustomCheckerOptions) {
    this.retryLoadAfterMs = opts.retryLoadAfterMs ?? 30_000;
    this.now = opts.now ?? (() => Date.now());
  }

  run(target: CustomCheckTarget, custom: CustomCheckConfig, opts: RunCheckOptions): Promise<CheckResult> {
    return bounded(opts, (signal) => this.probe(target, custom, signal, opts.timeoutMs));
  }

  async probe(target: CustomCheckTarget, custom: CustomCheckConfig, signal: AbortSignal, timeoutMs: number): Promise<Verdict> {
    const loaded = await this.load(custom.module);
    if (!loaded.ok) return { ok: false, detail: loaded.detail };
    let out: unknown;
    try {
      out = await loaded.fn({ ...target }, { signal, options: { ...custom.options }, timeoutMs });
    } catch (err) {
      return { ok: false, detail: `custom check threw: ${describeError(err)}` };
    }
    return judge(out);
  }

  /** Absolute path of a configured module. */
  resolvePath(module: string): string {
    if (module.startsWith('file:')) return fileURLToPath(module);
    return isAbsolute(module) ? module : resolve(this.opts.baseDir, module);
  }

  private load(module: string): Promise<Loaded> {
    const path = this.resolvePath(module);
    const cached = this.modules.get(path);
    if (cached) {
      return cached.then((l) => {
        if (l.ok || this.now() - l.at < this.retryLoadAfterMs) return l;
        this.modules.delete(path);
        return this.load(module);
      });
    }
    const loading = this.importModule(module, path);
    this.modules.set(path, loading);
    return loading;
  }

  private async importModule(module: string, path: string): Promise<Loaded> {
    try {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      const fn = mod.default;
      if (typeof fn !== 'function') return this.failed(module, 'has no default export function');
      this.opts.logger?.debug({ module: path }, 'custom check module loaded');
      return { ok: true, fn: fn as CustomCheckFn };
    } catch (err) {
      return this.failed(module, `failed to load: ${describeError(err)}`);
    }
  }

  private failed(module: string, why: string): Loaded {
    const detail = `custom module ${module} ${why}`;
    this.opts.logger?.warn({ module: this.resolvePath(module) }, detail);
    return { ok: false, detail, at: this.now() };
  }
}

function judge(out: unknown): Verdict {
  if (typeof out !== 'object' || out === null || typeof (out as { ok?: unknown }).ok !== 'boolean') {
    return { ok: false, detail: 'custom check returned an invalid result (expected { ok: boolean, detail?: string })' };
  }
  const { ok, detail } = out as { ok: boolean; detail?: unknown };
  const text = typeof detail === 'string' && detail.length > 0 ? clip(detail) : ok ? 'ok' : 'failed';
  return { ok, detail: text };
}
