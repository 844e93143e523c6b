/**
 * Replicated mode: every replica evaluates the same alerts (they see the same assignment), but only the
 * leader (LeaderElection `<prefix>/leader/alerts`) posts them to the webhook, so a receiver gets each
 * event once. app.ts gives the replicas' AlertManagers no webhook and attaches this sink to their
 * alert events instead, with the manager's delivery rules: new alerts (not re-fired within the
 * cooldown), level changes and resolutions, at or above `minLevel`. The leader logs what it posted
 * (alert-deliveries.ts); a replica that becomes leader posts what the log lacks, marked `replayed`.
 */
import type { AlertManager, AlertEventKind } from '../alerts/manager.js';
import { WebhookTarget, type WebhookPayload } from '../alerts/webhook.js';
import type { AlertsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { AlertRecord } from '../operations.js';
import { catchUp, conditionOf, type AlertDeliveryLog } from './alert-deliveries.js';

const RANK = { info: 0, warning: 1, critical: 2 } as const;
/**
 * Rules evaluated from this replica's own ADS streams (its ledger), not from the shared state: only the
 * replica that holds the proxy sees them, so it posts them itself (with `replica`), leader or not.
 */
const LOCAL_RULES: ReadonlySet<string> = new Set(['nack']);
/** A logged condition no replica resolves for this long is dropped (e.g. its rule was removed). */
const STALE_MS = 24 * 3600_000;

export interface LeaderWebhook {
  stop(): Promise<void>;
  idle(): Promise<void>;
  /** A reload (SIGHUP): the webhook settings apply to what is posted from now on. */
  reload(config: AlertsConfig): void;
}

export interface Leadership {
  isLeader(): boolean;
  /** Calls `cb` each time this replica becomes leader; returns the unsubscribe. */
  onElected(cb: () => void): () => void;
  deliveries: AlertDeliveryLog;
  replicaId: string;
}

export function leaderWebhook(alerts: AlertManager, config: AlertsConfig, lead: Leadership, logger: Logger, now: () => number = Date.now): LeaderWebhook {
  const log = logger.child({ sink: 'webhook', leaderOnly: true });
  const sink = new WebhookTarget(log, config.webhook);
  const post = (event: WebhookPayload['event'], a: AlertRecord, replayed: boolean): void => {
    if (LOCAL_RULES.has(a.rule)) {
      sink.send({ event, alert: a, source: 'healthmesh', replica: lead.replicaId });
      return;
    }
    // Logged once the receiver accepted it: a leader that dies before (or whose POSTs fail) leaves it for the next one.
    sink.send({ event, alert: a, source: 'healthmesh', ...(replayed ? { replayed: true as const } : {}) }, (delivered) => {
      if (!delivered) return;
      if (event === 'resolved') lead.deliveries.forget(conditionOf(a));
      else lead.deliveries.record(conditionOf(a), { level: a.level, at: now() });
    });
  };
  const levels = new Map<string, AlertRecord['level']>();
  const off = alerts.onAlert((a: AlertRecord, kind: AlertEventKind) => {
    const before = levels.get(a.id);
    if (a.state === 'resolved') levels.delete(a.id);
    else levels.set(a.id, a.level);
    let notify: boolean;
    if (kind === 'fired')
      notify = a.count === 1; // a re-fire within the cooldown is not notified
    else if (kind === 'updated') notify = before !== undefined && before !== a.level;
    else notify = kind === 'resolved';
    const hook = sink.current();
    if (!hook || !notify || RANK[a.level] < RANK[hook.minLevel] || !(lead.isLeader() || LOCAL_RULES.has(a.rule))) return;
    post(kind as WebhookPayload['event'], a, false);
  });
  let stopped = false;
  const elected = async (): Promise<void> => {
    const hook = sink.current();
    if (!hook) return;
    const logged = await lead.deliveries.load();
    if (stopped || !lead.isLeader()) return;
    const plan = catchUp({
      firing: alerts.list({ state: 'firing' }).filter((a) => !LOCAL_RULES.has(a.rule)),
      resolved: alerts.list({ state: 'resolved' }).filter((a) => !LOCAL_RULES.has(a.rule)),
      logged,
      minLevel: hook.minLevel,
      now: now(),
      staleMs: STALE_MS,
    });
    for (const c of plan.forget) lead.deliveries.forget(c);
    for (const { event, alert } of plan.send) post(event, alert, true);
    if (plan.send.length > 0) log.info({ replayed: plan.send.length }, 'elected alert leader: posted what happened while no replica led');
  };
  let catchingUp: Promise<void> = Promise.resolve();
  const offElected = lead.onElected(() => {
    catchingUp = elected().catch((err: Error) => log.warn({ err: err.message }, 'elected alert leader: could not read the delivery log; nothing replayed'));
  });
  return {
    reload: (next) => sink.configure(next.webhook),
    idle: async () => {
      await catchingUp;
      await sink.idle();
    },
    async stop() {
      stopped = true;
      off();
      offElected();
      await sink.stop();
    },
  };
}
