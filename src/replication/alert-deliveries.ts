/**
 * What the alert leader has posted to the webhook, kept in etcd under `<prefix>/alerts/notified/`
 * (one key per condition: rule + subject, the same on every replica; alert ids are per replica), so
 * that a replica elected later posts what happened while no replica led — an alert that fired, changed
 * level or resolved between the old leader's crash and the new leader's election — instead of losing
 * it. Delivery is at least once: a leader that crashed between its POST and its record is repeated.
 */
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import type { AlertLevel, AlertRecord } from '../operations.js';
import { notifiedPrefix } from './keys.js';
import { ReplicatedMap } from './map.js';
import type { EtcdStatus } from './status.js';

export interface DeliveredAlert {
  level: AlertLevel;
  /** When the leader posted it (ms since the epoch). */
  at: number;
}

const deliveredSchema = z.strictObject({ level: z.enum(['info', 'warning', 'critical']), at: z.number() });

/** The condition an alert is about, as an etcd key part (rule and subject, each URI-encoded). */
export const conditionOf = (a: Pick<AlertRecord, 'rule' | 'subject'>): string => `${encodeURIComponent(a.rule)}/${encodeURIComponent(a.subject)}`;

export interface AlertDeliveryLog {
  /** Every condition recorded as posted and still firing for the receiver. */
  load(): Promise<Map<string, DeliveredAlert>>;
  record(condition: string, d: DeliveredAlert): void;
  forget(condition: string): void;
}

export function etcdAlertDeliveryLog(client: Etcd3, opts: { prefix: string; status: EtcdStatus; onError: (err: Error) => void }): AlertDeliveryLog {
  const map = new ReplicatedMap(client, {
    prefix: notifiedPrefix(opts.prefix),
    parse: (v) => deliveredSchema.parse(v),
    status: opts.status,
    onError: opts.onError,
  });
  return {
    load: async () => (await map.load()).values,
    record: (condition, d) => void map.put(condition, d).catch(opts.onError),
    forget: (condition) => void map.delete(condition).catch(opts.onError),
  };
}

export interface CatchUp {
  /** Events to post, oldest first; each is marked `replayed`. */
  send: Array<{ event: 'fired' | 'updated' | 'resolved'; alert: AlertRecord }>;
  /** Conditions to drop from the log without posting (resolved long ago, or unknown here and stale). */
  forget: string[];
}

/**
 * What a newly elected leader posts: firing alerts (at or above `minLevel`) the log does not have are
 * `fired`, those logged at another level `updated`; logged conditions this replica saw resolve are
 * `resolved`. A logged condition this replica knows nothing about is left alone (its own evaluation
 * may lag; it resolves or fires here later and is posted then), unless older than `staleMs`.
 */
export function catchUp(input: {
  firing: readonly AlertRecord[];
  resolved: readonly AlertRecord[];
  logged: ReadonlyMap<string, DeliveredAlert>;
  minLevel: AlertLevel;
  now: number;
  staleMs: number;
}): CatchUp {
  const rank = { info: 0, warning: 1, critical: 2 } as const;
  const out: CatchUp = { send: [], forget: [] };
  const firing = new Map(input.firing.map((a) => [conditionOf(a), a]));
  for (const [condition, a] of firing) {
    const logged = input.logged.get(condition);
    if (!logged) {
      if (rank[a.level] >= rank[input.minLevel]) out.send.push({ event: 'fired', alert: a });
    } else if (logged.level !== a.level && rank[a.level] >= rank[input.minLevel]) out.send.push({ event: 'updated', alert: a });
  }
  const resolved = new Map<string, AlertRecord>();
  for (const a of input.resolved) {
    const c = conditionOf(a);
    if (!firing.has(c) && (resolved.get(c)?.resolvedAt ?? -Infinity) < (a.resolvedAt ?? 0)) resolved.set(c, a);
  }
  for (const [condition, logged] of input.logged) {
    if (firing.has(condition)) continue;
    const r = resolved.get(condition);
    if (r) out.send.push({ event: 'resolved', alert: r });
    else if (input.now - logged.at > input.staleMs) out.forget.push(condition);
  }
  out.send.sort((x, y) => (x.alert.resolvedAt ?? x.alert.lastSeenAt) - (y.alert.resolvedAt ?? y.alert.lastSeenAt));
  return out;
}
