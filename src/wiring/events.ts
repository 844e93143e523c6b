import type { AlertManager } from '../alerts/manager.js';
import type { ControlPlane } from '../controlplane.js';
import type { HealthEngine } from '../health/engine.js';
import { xdsTypeShort, type HealthmeshMetrics } from '../metrics.js';
import type { AssignmentJournal } from '../store/assignment-journal.js';
import type { HistoryRecorder } from '../store/index.js';
import { PUSH_ORDER } from '../xds/protos.js';

/**
 * What each event moves: a new assignment is staged for persistence and published; any other engine
 * event re-evaluates alerts and records the endpoint's history; ACKs/NACKs, alerts and pushes feed metrics.
 */
export function connectEvents(p: {
  engine: HealthEngine;
  journal: AssignmentJournal;
  controlPlane: ControlPlane;
  alerts: AlertManager;
  history: HistoryRecorder;
  metrics: HealthmeshMetrics;
}): void {
  const { engine, controlPlane, alerts, metrics } = p;
  engine.onEvent((e) => {
    if (e.kind === 'assignment') {
      p.journal.stage(e.changed, e.removed);
      controlPlane.topology.changed();
      return;
    }
    alerts.schedule();
    if (e.kind === 'endpoint') p.history.changed(e.endpoint.key);
  });
  controlPlane.ledger.onEvent((e) => metrics.observeLedger(e));
  controlPlane.ledger.onNackedChange(() => alerts.schedule());
  alerts.onAlert((a, kind) => {
    if (kind === 'fired') metrics.observeAlert(a.level);
  });
  controlPlane.cache.subscribe((next, prev) => {
    const streams = controlPlane.xds.streamCount();
    for (const t of PUSH_ORDER) if (next.types[t] !== prev?.types[t]) metrics.observePush(xdsTypeShort(t)!, streams);
  });
}
