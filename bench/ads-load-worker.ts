/** Child-process side of RemoteLoadClient: hosts one AdsLoadClient and answers IPC requests. */
import { AdsLoadClient, SyncError, endpointsOf, loadProtos, now } from './ads-load.js';
import type { OpenResult, WorkerRequest } from './ads-load-remote.js';

if (!process.send) throw new Error('ads-load-worker must be started with child_process.fork');
const send = (m: unknown): void => {
  process.send?.(m);
};

loadProtos();
let client: AdsLoadClient | undefined;

async function handle(req: WorkerRequest & { id: number }): Promise<unknown> {
  switch (req.op) {
    case 'ping':
      return now();
    case 'open': {
      if (client) throw new Error('already open');
      client = new AdsLoadClient(req.opts);
      return openAndReport(client, req.timeoutMs);
    }
    case 'warmup': {
      const c = new AdsLoadClient({ ...req.opts, nodeIdPrefix: 'warmup-', keepHistory: false });
      const r = await openAndReport(c, req.timeoutMs);
      await c.close();
      return r;
    }
    case 'waitForEndpoint': {
      const c = need();
      const p = c.waitForEndpoint(req.watch, req.timeoutMs);
      send({ armed: req.id });
      return p;
    }
    case 'counters':
      return { ...need().counters(), clientCpuMs: cpuMs() };
    case 'summary':
      return need().summary();
    case 'diagnose':
      return need().diagnose(req.limit);
    case 'inspect': {
      const c = need();
      return req.streams.map((i) => {
        const cla = req.cluster === undefined ? undefined : c.lastAssignments(i).get(req.cluster);
        return { ...c.diagnoseStream(i), ...(cla ? { endpoints: endpointsOf(cla) } : {}) };
      });
    }
    case 'memory':
      return process.memoryUsage();
    case 'close':
      await client?.close();
      client = undefined;
      setImmediate(() => process.exit(0));
      return true;
  }
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function openAndReport(c: AdsLoadClient, timeoutMs: number): Promise<OpenResult> {
  const startedAt = now();
  const cpu0 = cpuMs();
  const base = (): Omit<OpenResult, 'ok' | 'error' | 'diagnostics'> => ({
    startedAt,
    syncedAt: now(),
    syncDurations: c.syncDurations(),
    channels: c.channelCount,
    summary: c.summary(),
    clientCpuMs: cpuMs() - cpu0,
  });
  try {
    await c.open(timeoutMs);
    return { ok: true, ...base() };
  } catch (err) {
    return { ok: false, error: (err as Error).message, diagnostics: err instanceof SyncError ? err.diagnostics : c.diagnose(), ...base() };
  }
}

function need(): AdsLoadClient {
  if (!client) throw new Error('not open');
  return client;
}

process.on('message', (m: WorkerRequest & { id: number }) => {
  handle(m).then(
    (value) => send({ id: m.id, ok: true, value }),
    (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
