import { randomUUID } from 'node:crypto';
import type { AlertsConfig } from '../config/schema.js';
import { conditionKey, deriveConditions, reconcileAlerts, type AlertInput, type AlertPolicy, type OpenAlert } from '../core/alerts.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AlertLevel, AlertRecord } from '../operations.js';
import type { Store } from '../store/types.js';
import { WebhookTarget } from './webhook.js';

/** Default period of the safety sweep (see `intervalMs`). */
export const DEFAULT_SWEEP_MS = 10_000;

const RANK: Record<AlertLevel, number> = { info: 0, warning: 1, critical: 2 };

export interface AlertManagerOptions {
  config: AlertsConfig;
  logger: Logger;
  /** The current state, read on every evaluation. */
  input: () => AlertInput;
  store?: Store | undefined;
  now?: () => number;
  /**
   * Safety sweep between events, default 10 s. Evaluation is event-driven: the root calls
   * `schedule()` when an input changes (engine events, the ledger's set of unresolved NACKs). The
   * sweep only catches details the engine does not announce (e.g. a second resource kind under
   * pressure on an endpoint that is already DEGRADED); it costs O(endpoints), never O(proxies).
   */
  intervalMs?: number;
}

export type AlertEventKind = 'fired' | 'resolved' | 'updated' | 'acknowledged';

/**
 * Raises, aggregates, cools down and resolves alerts; keeps their history (in memory, bounded, and
 * in the store); delivers them to the log, the webhook and listeners (the status Watch stream).
 */
export class AlertManager {
  private readonly known = new Map<string, OpenAlert>();
  private readonly byId = new Map<string, AlertRecord>();
  private readonly listeners = new Set<(a: AlertRecord, kind: AlertEventKind) => void>();
  private readonly webhook: WebhookTarget;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private config: AlertsConfig;

  constructor(private readonly opts: AlertManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.config = opts.config;
    this.webhook = new WebhookTarget(opts.logger.child({ sink: 'webhook' }), opts.config.webhook);
    for (const a of opts.store?.alerts() ?? []) this.remember(a);
  }

  private get policy(): AlertPolicy {
    return this.config;
  }

  /** A reload (SIGHUP): new rules, cooldown and webhook apply from the next evaluation, which runs now. */
  reload(config: AlertsConfig): void {
    this.config = config;
    this.webhook.configure(config.webhook);
    this.schedule(0);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.evaluate(), this.opts.intervalMs ?? DEFAULT_SWEEP_MS);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.timer = this.pending = undefined;
    await this.webhook.stop();
  }

  /** Coalesce bursts of state changes into one evaluation. Ignored once stopped. */
  schedule(delayMs = 50): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.evaluate();
    }, delayMs);
    this.pending.unref?.();
  }

  evaluate(): void {
    if (this.stopped) return;
    const now = this.now();
    let conditions;
    try {
      conditions = deriveConditions(this.opts.input(), this.policy);
    } catch (err) {
      this.opts.logger.error({ err }, 'alert evaluation failed');
      return;
    }
    const r = reconcileAlerts(this.known, conditions, now, this.policy, randomUUID);
    for (const a of r.fired) this.apply(a, 'fired', true);
    for (const a of r.suppressed) this.apply(a, 'fired', false);
    for (const a of r.updated) this.apply(a, 'updated', a.level !== this.known.get(conditionKey(a))?.level);
    for (const a of r.resolved) this.apply(a, 'resolved', true);
    this.prune(now);
  }

  /** Resolved alerts past their cooldown can no longer be re-opened silently: forget their keys. */
  private prune(now: number): void {
    for (const [key, a] of this.known) if (a.state === 'resolved' && now - a.firedAt >= this.policy.cooldownMs) this.known.delete(key);
  }

  /** Conditions remembered for cooldown and updates (tests). */
  knownCount(): number {
    return this.known.size;
  }

  list(
    filter: { state?: AlertRecord['state'] | undefined; level?: AlertLevel | undefined; from?: number | undefined; to?: number | undefined } = {},
  ): AlertRecord[] {
    return [...this.byId.values()]
      .filter(
        (a) =>
          (!filter.state || a.state === filter.state) &&
          (!filter.level || a.level === filter.level) &&
          (filter.from === undefined || a.lastSeenAt >= filter.from) &&
          (filter.to === undefined || a.firedAt <= filter.to),
      )
      .sort((a, b) => b.firedAt - a.firedAt);
  }

  acknowledge(id: string, by?: string): AlertRecord {
    const a = this.byId.get(id);
    if (!a) throw new NotFoundError(`alert "${id}"`);
    const acked: AlertRecord = { ...a, acknowledgedAt: this.now(), acknowledgedBy: by ?? 'admin' };
    this.remember(acked);
    this.opts.store?.saveAlert(acked);
    this.emit(acked, 'acknowledged');
    return acked;
  }

  onAlert(listener: (a: AlertRecord, kind: AlertEventKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Webhook deliveries settled (tests). */
  async idle(): Promise<void> {
    await this.webhook.idle();
  }

  private apply(a: OpenAlert, kind: Exclude<AlertEventKind, 'acknowledged'>, notify: boolean): void {
    const prev = this.byId.get(a.id);
    const record: AlertRecord = { ...a, acknowledgedAt: prev?.acknowledgedAt, acknowledgedBy: prev?.acknowledgedBy };
    this.remember(record);
    this.opts.store?.saveAlert(record);
    if (notify) {
      const log = this.opts.logger.child({ alert: a.id, rule: a.rule, subject: a.subject, level: a.level });
      const line = kind === 'resolved' ? `resolved: ${a.message}` : a.message;
      if (kind === 'resolved' || a.level === 'info') log.info(line);
      else if (a.level === 'warning') log.warn(line);
      else log.error(line);
      const hook = this.webhook.current();
      if (hook && RANK[a.level] >= RANK[hook.minLevel]) this.webhook.send({ event: kind, alert: record, source: 'healthmesh' });
    }
    this.emit(record, kind);
  }

  private remember(a: AlertRecord): void {
    this.byId.set(a.id, a);
    const key = conditionKey(a);
    const current = this.known.get(key);
    if (!current || current.id === a.id || current.firedAt <= a.firedAt) this.known.set(key, a);
    const limit = this.config.historyLimit;
    if (this.byId.size > limit) {
      const oldest = [...this.byId.values()].filter((x) => x.state === 'resolved').sort((x, y) => x.firedAt - y.firedAt);
      for (const old of oldest.slice(0, this.byId.size - limit)) this.byId.delete(old.id);
    }
  }

  private emit(a: AlertRecord, kind: AlertEventKind): void {
    for (const l of this.listeners) {
      try {
        l(a, kind);
      } catch (err) {
        this.opts.logger.error({ err }, 'alert listener failed');
      }
    }
  }
}
