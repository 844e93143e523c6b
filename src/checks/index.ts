import type { Dispatcher } from 'undici';
import type { CheckConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { CustomChecker } from './custom.js';
import { GrpcChecker } from './grpc.js';
import { HttpChecker } from './http.js';
import { bounded } from './outcome.js';
import { systemLookup, TargetPolicy, type Lookup } from './targets.js';
import { tcpProbe } from './tcp.js';
import type { CheckTarget, RunCheck, RunCheckOptions, Verdict } from './types.js';

export type { CheckResult, CheckTarget, RunCheck, RunCheckOptions } from './types.js';
export { checkTargetLiteral, TargetPolicy } from './targets.js';
export { ProbeScheduler } from './scheduler.js';
export { SwappableChecker } from './swappable.js';
export type { ProbeJob, ProbeSchedulerOptions, SchedulerStats, JobStats } from './scheduler.js';

export interface CheckerOptions {
  /** `health.allowTargets`: link-local/metadata targets allowed anyway (address, CIDR or name). */
  allowTargets: readonly string[];
  /** Base directory for relative custom check module paths (the config file's directory). */
  baseDir: string;
  logger: Logger;
  /** DNS resolution, injectable for tests. Default `dns.lookup(host, { all: true })`. */
  lookup?: Lookup;
  /** Shared undici dispatcher for HTTP checks (default: one keep-alive Agent owned by the checker). */
  httpDispatcher?: Dispatcher;
}

export interface Checker {
  run: RunCheck;
  /** Closes keep-alive connections and gRPC channels. Idempotent. */
  close(): Promise<void>;
}

/**
 * One entry point for every kind of active check. The target is vetted by the target policy
 * (names resolved, link-local/metadata refused) and the check connects to the vetted address.
 * Throws InvalidArgumentError only for a malformed `allowTargets`.
 */
export function createChecker(opts: CheckerOptions): Checker {
  const policy = new TargetPolicy(opts.allowTargets);
  const lookup = opts.lookup ?? systemLookup;
  const logger = opts.logger.child({ component: 'checks' });
  const http = new HttpChecker(opts.httpDispatcher ? { dispatcher: opts.httpDispatcher } : {});
  const grpc = new GrpcChecker();
  const custom = new CustomChecker({ baseDir: opts.baseDir, logger });
  let closing: Promise<void> | undefined;

  const body = async (target: CheckTarget, check: CheckConfig, signal: AbortSignal, timeoutMs: number): Promise<Verdict> => {
    if (closing) return { ok: false, detail: 'checker closed' };
    const decision = await policy.resolve(target.address, lookup);
    if (!decision.ok) return { ok: false, detail: decision.detail };
    const resolved = { address: decision.address, port: target.port, ...(decision.hostname ? { hostname: decision.hostname } : {}) };
    if (check.http) return http.probe(resolved, check.http, signal, timeoutMs);
    if (check.tcp) return tcpProbe(resolved, signal);
    if (check.grpc) return grpc.probe(resolved, check.grpc.service, signal, timeoutMs);
    if (check.custom) return custom.probe(resolved, check.custom, signal, timeoutMs);
    return { ok: false, detail: 'invalid check: none of http, tcp, grpc or custom is set' };
  };

  return {
    run: (target: CheckTarget, check: CheckConfig, runOpts: RunCheckOptions) => bounded(runOpts, (signal) => body(target, check, signal, runOpts.timeoutMs)),
    close() {
      closing ??= Promise.all([http.close(), grpc.close()]).then(() => undefined);
      return closing;
    },
  };
}
