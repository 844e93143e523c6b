/**
 * healthmesh under test in the health-drain section, alone in its own process (as in production: nothing of the
 * benchmark's polling and analysis shares its event loop). It records, with wallNow() timestamps, every probe
 * result, every endpoint decision event, every snapshot publication that changed EDS and every EDS ACK from Envoy.
 *
 * Forked by health-drain.ts. RPC: `start { config }` → { xdsPort }, `trace { from }` → HmTrace since `from`,
 * `stats` → CPU ms, `exit` (stops healthmesh).
 */
import { BENCH_ISOLATION } from './health-common.js';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { TYPE } from '../../src/xds/protos.js';
import { diffSnapshots } from '../../src/xds/snapshot.js';
import { cpuMs, isMain, serveRpc, wallNow } from './health-common.js';

/** healthmesh internals for the breakdown: probes, engine decisions, EDS publishes and Envoy's ACKs (wall clock). */
export interface HmTrace {
  probes: Array<{ t: number; id: string; ok: boolean }>;
  decisions: Array<{ t: number; key: string; health: string; weight: number; circuit: string; status: string }>;
  publishes: Array<{ t: number; version: string }>;
  acks: Array<{ t: number; version: string }>;
}

function trace(app: Healthmesh): HmTrace {
  const tr: HmTrace = { probes: [], decisions: [], publishes: [], acks: [] };
  app.onProbe((id, o) => tr.probes.push({ t: wallNow(), id, ok: o.ok }));
  app.engine.onEvent((e) => {
    if (e.kind !== 'endpoint') return;
    const d = e.endpoint.decision;
    tr.decisions.push({ t: wallNow(), key: e.endpoint.key, health: d.health, weight: d.weight, circuit: d.circuit, status: d.status });
  });
  app.controlPlane.cache.subscribe((next, previous) => {
    if ((diffSnapshots(previous, next).changed[TYPE.endpoint]?.length ?? 0) > 0)
      tr.publishes.push({ t: wallNow(), version: next.types[TYPE.endpoint].version });
  });
  app.controlPlane.ledger.onEvent((e) => {
    if (e.kind === 'ack' && e.typeUrl === TYPE.endpoint) tr.acks.push({ t: wallNow(), version: e.version });
  });
  return tr;
}

if (isMain(import.meta.url)) {
  let app: Healthmesh | undefined;
  let tr: HmTrace | undefined;
  const since = <T extends { t: number }>(a: T[], from: number): T[] => a.filter((x) => x.t >= from);
  serveRpc(
    {
      async start(a: { config: unknown }): Promise<{ xdsPort: number }> {
        app = createHealthmesh(validateConfig({ ...(a.config as object), ...BENCH_ISOLATION }, 'bench/sections/health-drain.ts'));
        tr = trace(app);
        return app.start();
      },
      trace(a: { from: number }): HmTrace {
        if (!tr) throw new Error('not started');
        return {
          probes: since(tr.probes, a.from),
          decisions: since(tr.decisions, a.from),
          publishes: since(tr.publishes, a.from),
          acks: since(tr.acks, a.from),
        };
      },
      stats(): { cpuMs: number } {
        return { cpuMs: cpuMs() };
      },
    },
    async () => {
      await app?.stop();
    },
  );
}
