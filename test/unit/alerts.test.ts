import { describe, expect, it } from 'vitest';
import { alertsSchema } from '../../src/config/schema.js';
import {
  conditionKey,
  deriveConditions,
  reconcileAlerts,
  type AlertInput,
  type AlertInputCluster,
  type AlertInputEndpoint,
  type OpenAlert,
} from '../../src/core/alerts.js';

const policy = alertsSchema.parse({ cooldownMs: 60_000 });
const ep = (key: string, over: Partial<AlertInputEndpoint> = {}): AlertInputEndpoint => ({
  key,
  cluster: key.split('/')[0]!,
  health: 'HEALTHY',
  guarded: false,
  drained: false,
  flapping: false,
  pressure: [],
  ...over,
});
const input = (over: Partial<AlertInput>): AlertInput => ({ endpoints: [], clusters: [], proxies: [], ...over });
let ids = 0;
const newId = () => `a${++ids}`;

describe('deriveConditions', () => {
  it('aggregates failing endpoints into one alert per cluster', () => {
    const c = deriveConditions(
      input({
        endpoints: [
          ep('web/10.0.0.1:80', { health: 'UNHEALTHY' }),
          ep('web/10.0.0.2:80', { health: 'UNHEALTHY' }),
          ep('web/10.0.0.3:80'),
          ep('api/10.0.1.1:80', { health: 'UNHEALTHY', drained: true }),
        ],
      }),
      policy,
    );
    expect(c).toEqual([
      {
        rule: 'endpoint_unhealthy',
        subject: 'web',
        cluster: 'web',
        level: 'warning',
        message: '2 endpoint(s) failing in cluster web: 10.0.0.1:80, 10.0.0.2:80',
      },
    ]);
  });

  it.each<[AlertInputCluster, string | undefined]>([
    [{ name: 'web', total: 4, healthy: 3, guarded: 0, allFailing: false }, undefined],
    [{ name: 'web', total: 4, healthy: 1, guarded: 0, allFailing: false }, 'critical'],
    [{ name: 'web', total: 4, healthy: 1, guarded: 1, allFailing: false, reason: '3 of 4 endpoints failing; at most 50% (2) may be ejected' }, 'critical'],
  ])('cluster capacity %o → %s', (cluster, level) => {
    const c = deriveConditions(input({ clusters: [cluster] }), policy).filter((x) => x.rule === 'cluster_capacity');
    expect(c[0]?.level).toBe(level);
    if (cluster.reason) expect(c[0]?.message).toContain(`guard: ${cluster.reason}`);
  });

  it('NACKs per proxy, heartbeats and pressure per node, flapping per cluster', () => {
    const c = deriveConditions(
      input({
        proxies: [
          { nodeId: 'envoy-1', nacked: [{ type: 'Listener', message: "cannot bind '127.0.0.1:80'" }] },
          { nodeId: 'envoy-2', nacked: [] },
        ],
        endpoints: [
          ep('web/a:1', { nodeId: 'n1', heartbeat: 'lost' }),
          ep('web/b:1', { nodeId: 'n1', heartbeat: 'late' }),
          ep('web/c:1', { nodeId: 'n2', pressure: ['memory'], flapping: true }),
        ],
      }),
      policy,
    );
    expect(c.map((x) => [x.rule, x.subject, x.level])).toEqual([
      ['flapping', 'web', 'warning'],
      ['nack', 'proxies', 'critical'],
      ['heartbeat_missing', 'n1', 'critical'],
      ['resources', 'n2', 'info'],
    ]);
    expect(c.find((x) => x.rule === 'nack')?.message).toBe("proxy envoy-1 (Listener) rejected configuration: cannot bind '127.0.0.1:80'");
  });

  it('NACKs from many proxies (client-chosen ids) make one alert listing the first 10, ids and text cut short', () => {
    const proxies = Array.from({ length: 10_000 }, (_, i) => ({
      nodeId: `p${String(i).padStart(5, '0')}${i === 0 ? 'x'.repeat(5000) : ''}`,
      nacked: [{ type: 'Cluster', message: 'e'.repeat(10_000) }],
    }));
    const c = deriveConditions(input({ proxies }), policy).filter((x) => x.rule === 'nack');
    expect(c).toHaveLength(1);
    expect(c[0]!.subject).toBe('proxies');
    expect(c[0]!.message).toMatch(
      /^10000 proxies rejected configuration: p00000x+… \(Cluster\), p00001 \(Cluster\), .*p00009 \(Cluster\) and 9990 more; first error/,
    );
    expect(c[0]!.message.length).toBeLessThan(1000);
  });
});

describe('reconcileAlerts', () => {
  const cond = { rule: 'endpoint_unhealthy', subject: 'web', cluster: 'web', level: 'warning' as const, message: '1 endpoint(s) failing' };

  it('fires, updates on change, resolves when the condition goes, and cools down re-fires', () => {
    const known = new Map<string, OpenAlert>();
    const first = reconcileAlerts(known, [cond], 1000, policy, newId);
    expect(first.fired).toHaveLength(1);
    const a = first.fired[0]!;
    known.set(conditionKey(a), a);
    expect(reconcileAlerts(known, [cond], 2000, policy, newId)).toEqual({ fired: [], suppressed: [], updated: [], resolved: [] });
    const upd = reconcileAlerts(known, [{ ...cond, message: '2 endpoint(s) failing' }], 3000, policy, newId);
    expect(upd.updated[0]).toMatchObject({ id: a.id, message: '2 endpoint(s) failing', count: 1 });
    const res = reconcileAlerts(known, [], 4000, policy, newId);
    expect(res.resolved[0]).toMatchObject({ id: a.id, state: 'resolved', resolvedAt: 4000 });
    known.set(conditionKey(a), res.resolved[0]!);
    const again = reconcileAlerts(known, [cond], 5000, policy, newId);
    expect(again.fired).toHaveLength(0);
    expect(again.suppressed[0]).toMatchObject({ id: a.id, state: 'firing', count: 2 });
    const later = reconcileAlerts(known, [cond], 1000 + 60_000, policy, newId);
    expect(later.fired).toHaveLength(1);
    expect(later.fired[0]!.id).not.toBe(a.id);
  });
});
