/**
 * Replicated mode: every replica evaluates the same alerts (they see the same assignment), but only the
 * leader (LeaderElection `<prefix>/leader/alerts`) posts them to the webhook, so a receiver gets each
 * event once. app.ts gives the replicas' AlertManagers no webhook and attaches this sink to their
 * alert events instead, with the manager's delivery rules: new alerts (not re-fired within the
 * cooldown), level changes and resolutions, at or above `minLevel`.
 */
import type { AlertManager, AlertEventKind } from '../alerts/manager.js';
import { WebhookSink } from '../alerts/webhook.js';
import type { AlertsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { AlertRecord } from '../operations.js';

const RANK = { info: 0, warning: 1, critical: 2 } as const;

export interface LeaderWebhook {
  stop(): Promise<void>;
  idle(): Promise<void>;
  readonly sink: WebhookSink;
}

export function leaderWebhook(alerts: AlertManager, config: AlertsConfig, isLeader: () => boolean, logger: Logger): LeaderWebhook | undefined {
  const hook = config.webhook;
  if (!hook) return undefined;
  const sink = new WebhookSink({
    url: hook.url,
    timeoutMs: hook.timeoutMs,
    retries: hook.retries,
    logger: logger.child({ sink: 'webhook', leaderOnly: true }),
  });
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
    if (!notify || RANK[a.level] < RANK[hook.minLevel] || !isLeader()) return;
    sink.send({ event: kind as 'fired' | 'updated' | 'resolved', alert: a, source: 'healthmesh' });
  });
  return {
    sink,
    idle: () => sink.idle(),
    async stop() {
      off();
      await sink.stop();
    },
  };
}
