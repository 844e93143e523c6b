import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../src/operations.js';
import { catchUp, conditionOf, type DeliveredAlert } from '../../src/replication/alert-deliveries.js';

const alert = (rule: string, subject: string, level: AlertRecord['level'], extra: Partial<AlertRecord> = {}): AlertRecord => ({
  id: `${rule}-${subject}-${Math.random()}`,
  rule,
  subject,
  level,
  message: `${rule} ${subject}`,
  state: 'firing',
  firedAt: 1000,
  lastSeenAt: 1000,
  count: 1,
  ...extra,
});
const resolvedAlert = (rule: string, subject: string, level: AlertRecord['level'], at: number) =>
  alert(rule, subject, level, { state: 'resolved', resolvedAt: at, lastSeenAt: at });
const NOW = 100_000;
const plan = (firing: AlertRecord[], resolved: AlertRecord[], logged: Array<[AlertRecord, DeliveredAlert]>, minLevel: AlertRecord['level'] = 'warning') =>
  catchUp({ firing, resolved, logged: new Map(logged.map(([a, d]) => [conditionOf(a), d])), minLevel, now: NOW, staleMs: 60_000 });
const events = (p: ReturnType<typeof plan>) => p.send.map((s) => `${s.event} ${s.alert.subject} ${s.alert.level}`);

describe('catchUp: what a newly elected alert leader posts', () => {
  it('posts a firing alert the log lacks, at or above minLevel only', () => {
    const p = plan([alert('endpoint_unhealthy', 'web/a', 'warning'), alert('endpoint_unhealthy', 'web/b', 'info')], [], []);
    expect(events(p)).toEqual(['fired web/a warning']);
  });

  it('posts nothing for what the old leader already posted at the same level', () => {
    const a = alert('endpoint_unhealthy', 'web/a', 'critical');
    expect(plan([a], [], [[a, { level: 'critical', at: NOW - 10 }]])).toEqual({ send: [], forget: [] });
  });

  it('posts a level change that happened while nobody led', () => {
    const a = alert('cluster_capacity', 'web', 'critical');
    expect(events(plan([a], [], [[a, { level: 'warning', at: NOW - 10 }]]))).toEqual(['updated web critical']);
  });

  it('posts the resolution of a logged alert this replica saw resolve (the latest record of that condition)', () => {
    const old = resolvedAlert('endpoint_unhealthy', 'web/a', 'warning', 2000);
    const last = resolvedAlert('endpoint_unhealthy', 'web/a', 'critical', 5000);
    const p = plan([], [old, last], [[last, { level: 'critical', at: 1000 }]]);
    expect(p.send.map((s) => [s.event, s.alert.resolvedAt])).toEqual([['resolved', 5000]]);
  });

  it('leaves a logged condition it knows nothing about (its own view may lag) unless stale', () => {
    const recent = alert('endpoint_unhealthy', 'web/a', 'warning');
    const stale = alert('endpoint_unhealthy', 'web/b', 'warning');
    const p = plan(
      [],
      [],
      [
        [recent, { level: 'warning', at: NOW - 1000 }],
        [stale, { level: 'warning', at: NOW - 120_000 }],
      ],
    );
    expect(p).toEqual({ send: [], forget: [conditionOf(stale)] });
  });

  it('a condition firing again after a resolution is not resolved; subjects with slashes map to distinct keys', () => {
    const firing = alert('endpoint_unhealthy', 'web/a', 'warning');
    const p = plan([firing], [resolvedAlert('endpoint_unhealthy', 'web/a', 'warning', 900)], [[firing, { level: 'warning', at: 1 }]]);
    expect(p.send).toEqual([]);
    expect(conditionOf({ rule: 'r', subject: 'a/b' })).not.toBe(conditionOf({ rule: 'r/a', subject: 'b' }));
  });
});
