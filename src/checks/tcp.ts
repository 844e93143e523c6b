import { connect } from 'node:net';
import { bounded } from './outcome.js';
import type { CheckResult, CheckTarget, RunCheckOptions, Verdict } from './types.js';

/** Opens a TCP connection and closes it at once: ok when the connect succeeds. */
export function tcpProbe(target: CheckTarget, signal: AbortSignal): Promise<Verdict> {
  return new Promise<Verdict>((resolve, reject) => {
    const socket = connect({ host: target.address, port: target.port });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ok: true, detail: 'connected' });
    });
    socket.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
  });
}

/** A RunCheck for `tcp: {}` against an IP target (names are resolved by the target policy first). */
export function runTcpCheck(target: CheckTarget, opts: RunCheckOptions): Promise<CheckResult> {
  return bounded(opts, (signal) => tcpProbe(target, signal));
}
