/**
 * A seeded history for report tests: a real in-memory SQLite store (createMemoryStore) filled with
 * deterministic synthetic points for a few clusters and endpoints, alerts, and a matching fake
 * Operations for the live state. Cluster names are restricted to [A-Za-z0-9_.:-], so hostile text
 * (markup, spreadsheet formulas, Markdown pipes, control characters) lives in reasons, alert
 * messages, subjects and acknowledgers.
 */
import type { EndpointKey } from '../../src/core/model.js';
import type { AlertRecord, HistoryPoint } from '../../src/operations.js';
import { createMemoryStore, type Store } from '../../src/store/index.js';
import { FakeOperations, fakeEndpoint } from './fake-operations.js';
import { mulberry32 } from './prng.js';

/** 2026-11-25T00:00:00Z */
export const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);
export const HOUR = 3_600_000;
export const MINUTE = 60_000;
/** The seeded range: six hours, one point per endpoint per minute. */
export const RANGE = { from: T0, to: T0 + 6 * HOUR } as const;
export const STEP_MS = MINUTE;

export const HOSTILE = {
  script: '<script>alert(1)</script>',
  formula: '=HYPERLINK("http://x")',
  plus: '+SUM(1,2)',
  at: '@cmd',
  minus: "-2+3+cmd|' /C calc'!A0",
  tab: '\tleading tab',
  cr: '\rleading CR',
  pipe: 'a | b | c',
  markdown: '[click](http://evil.example/) **bold** `code`',
  quote: '"quoted", with comma',
  newline: 'line one\nline two',
  img: '<img src="http://evil.example/x.png" onerror="alert(2)">',
} as const;

export const CLUSTERS = ['api', 'edge:v2.eu-1', 'web'] as const;

export interface SeededEndpoint {
  key: EndpointKey;
  cluster: string;
  address: string;
  port: number;
}

const ep = (cluster: string, address: string, port: number): SeededEndpoint => ({ key: `${cluster}/${address}:${port}`, cluster, address, port });

export const ENDPOINTS = {
  /** Healthy throughout; memory climbs steadily towards 90% (a trend sentence), CPU flat, latency steady. */
  steady: ep('web', '10.0.0.1', 8080),
  /** Degraded for an hour with hostile reasons, then unhealthy (circuit open) for 30 min, then back. */
  sick: ep('web', '10.0.0.2', 8080),
  /** Flaps: unhealthy 2 min of every 20 (three-ish circuit trips an hour). */
  flappy: ep('web', '10.0.0.3', 8080),
  /** Passive error rate rises; no agent metrics. A 40 min gap in its history (control plane down). */
  errors: ep('api', '10.0.1.1', 9000),
  /** Only one point: insufficient data everywhere. */
  lonely: ep('edge:v2.eu-1', '10.0.2.1', 7000),
} as const;

const rng = mulberry32;

function point(e: SeededEndpoint, at: number, over: Partial<HistoryPoint>): HistoryPoint {
  return { key: e.key, cluster: e.cluster, at, score: 100, status: 'HEALTHY', circuit: 'closed', health: 'HEALTHY', weight: 100, ...over };
}

/** Every point of the seeded history (ordered by endpoint, then time). */
export function seededPoints(): HistoryPoint[] {
  const r = rng(42);
  const noise = (amp: number): number => (r() - 0.5) * 2 * amp;
  const points: HistoryPoint[] = [];
  const steps = Math.round((RANGE.to - RANGE.from) / STEP_MS);
  for (let i = 0; i < steps; i++) {
    const at = RANGE.from + i * STEP_MS;
    const h = (at - RANGE.from) / HOUR;
    // steady: memory 60% → 84% over 6 h (reaches 90% about 1.5 h after the end).
    points.push(
      point(ENDPOINTS.steady, at, {
        score: 97 + noise(2),
        latencyMs: 20 + noise(3),
        cpuPercent: 35 + noise(4),
        memoryPercent: 60 + 4 * h + noise(0.3),
        diskPercent: 50 + noise(0.5),
        heartbeatAgeS: 2,
      }),
    );
    // sick: 2h..3h DEGRADED, 3h..3.5h UNHEALTHY (circuit open), then half-open 10 min, then healthy.
    let sick: Partial<HistoryPoint> = {
      score: 95 + noise(2),
      latencyMs: 40 + noise(5),
      cpuPercent: 50 + noise(5),
      memoryPercent: 70 + noise(1),
      diskPercent: 70,
    };
    if (h >= 2 && h < 3)
      sick = {
        ...sick,
        score: 55 + noise(3),
        status: 'DEGRADED',
        health: 'HEALTHY',
        weight: 30,
        latencyMs: 900 + noise(100),
        reasons: [`p99 1.8 s > 500 ms`, HOSTILE.script, HOSTILE.formula, HOSTILE.pipe],
      };
    else if (h >= 3 && h < 3.5)
      sick = {
        ...sick,
        score: 5,
        status: 'UNHEALTHY',
        circuit: 'open',
        health: 'UNHEALTHY',
        weight: 0,
        latencyMs: 5000,
        reasons: ['3 consecutive failed checks (last: HTTP 503)', HOSTILE.minus, HOSTILE.newline],
      };
    else if (h >= 3.5 && h < 3.5 + 10 / 60)
      sick = { ...sick, score: 75, status: 'DEGRADED', circuit: 'half-open', health: 'HEALTHY', weight: 10, reasons: ['probation'] };
    points.push(point(ENDPOINTS.sick, at, sick));
    // flappy: every 20 min, 2 min unhealthy.
    const down = i % 20 >= 18;
    points.push(
      point(ENDPOINTS.flappy, at, {
        score: down ? 0 : 90 + noise(5),
        status: down ? 'UNHEALTHY' : 'HEALTHY',
        circuit: down ? 'open' : 'closed',
        health: down ? 'UNHEALTHY' : 'HEALTHY',
        weight: down ? 0 : 100,
        latencyMs: 30 + noise(10),
        ...(down ? { reasons: ['connection refused', HOSTILE.at] } : {}),
      }),
    );
    // errors: error rate 0 → ~30% over 6 h; a gap 4h..4h40.
    if (!(h >= 4 && h < 4 + 40 / 60)) {
      const rate = Math.max(0, 0.05 * h + noise(0.01));
      points.push(
        point(ENDPOINTS.errors, at, {
          score: 100 - rate * 100,
          errorRate: rate,
          latencyMs: 100 + noise(20),
          status: rate > 0.25 ? 'DEGRADED' : 'HEALTHY',
          ...(rate > 0.05 ? { reasons: [`error rate ${Math.round(rate * 100)}% in real traffic`, HOSTILE.img] } : {}),
        }),
      );
    }
  }
  points.push(point(ENDPOINTS.lonely, RANGE.from + 30 * MINUTE, { score: 80, status: 'HEALTHY', reasons: [HOSTILE.markdown] }));
  return points;
}

export function seededAlerts(): AlertRecord[] {
  const base = { count: 1 } as const;
  return [
    {
      ...base,
      id: 'a-sick-unhealthy',
      rule: 'endpointUnhealthy',
      level: 'critical',
      subject: ENDPOINTS.sick.key,
      cluster: 'web',
      message: `${ENDPOINTS.sick.key} is UNHEALTHY: ${HOSTILE.script}`,
      state: 'resolved',
      firedAt: T0 + 3 * HOUR,
      lastSeenAt: T0 + 3.5 * HOUR,
      resolvedAt: T0 + 3.5 * HOUR,
    },
    {
      ...base,
      id: 'a-sick-degraded',
      rule: 'endpointDegraded',
      level: 'warning',
      subject: ENDPOINTS.sick.key,
      cluster: 'web',
      message: HOSTILE.formula,
      state: 'resolved',
      firedAt: T0 + 2 * HOUR,
      lastSeenAt: T0 + 3 * HOUR,
      resolvedAt: T0 + 3 * HOUR,
      acknowledgedAt: T0 + 2.1 * HOUR,
      acknowledgedBy: HOSTILE.plus,
    },
    {
      ...base,
      id: 'a-flappy',
      rule: 'endpointFlapping',
      level: 'warning',
      subject: ENDPOINTS.flappy.key,
      cluster: 'web',
      message: `flapping ${HOSTILE.pipe}`,
      state: 'firing',
      firedAt: T0 + 1 * HOUR,
      lastSeenAt: T0 + 5.9 * HOUR,
      count: 17,
    },
    {
      ...base,
      id: 'a-errors',
      rule: 'endpointDegraded',
      level: 'warning',
      subject: ENDPOINTS.errors.key,
      cluster: 'api',
      message: `${HOSTILE.tab} / ${HOSTILE.cr} / ${HOSTILE.quote}`,
      state: 'resolved',
      firedAt: T0 + 5 * HOUR,
      lastSeenAt: T0 + 5.5 * HOUR,
      resolvedAt: T0 + 5.5 * HOUR,
    },
    {
      ...base,
      id: 'a-nack',
      rule: 'proxyNack',
      level: 'info',
      subject: HOSTILE.markdown,
      message: `NACK from node ${HOSTILE.newline}`,
      state: 'resolved',
      firedAt: T0 + 0.5 * HOUR,
      lastSeenAt: T0 + 0.6 * HOUR,
      resolvedAt: T0 + 0.6 * HOUR,
    },
    // Outside the range: must not appear.
    {
      ...base,
      id: 'a-old',
      rule: 'endpointUnhealthy',
      level: 'critical',
      subject: ENDPOINTS.sick.key,
      cluster: 'web',
      message: 'long ago',
      state: 'resolved',
      firedAt: T0 - 48 * HOUR,
      lastSeenAt: T0 - 47 * HOUR,
      resolvedAt: T0 - 47 * HOUR,
    },
  ];
}

/** A real in-memory SQLite store with the seeded history and alerts. Close it when done. */
export function seededStore(): Store {
  const store = createMemoryStore();
  const points = seededPoints();
  for (let i = 0; i < points.length; i += 1000) store.appendHistory(points.slice(i, i + 1000));
  for (const a of seededAlerts()) store.saveAlert(a);
  return store;
}

/** Live state matching the seeded store: every seeded endpoint, plus one with no history yet. */
export function seededOperations(): FakeOperations {
  return new FakeOperations({
    endpoints: [
      fakeEndpoint('web', '10.0.0.1', 8080, { score: 97 }),
      fakeEndpoint('web', '10.0.0.2', 8080, { score: 96 }),
      fakeEndpoint('web', '10.0.0.3', 8080, {
        score: 0,
        status: 'UNHEALTHY',
        circuit: 'open',
        health: 'UNHEALTHY',
        weight: 0,
        reasons: ['connection refused', HOSTILE.at],
        flapping: true,
      }),
      fakeEndpoint('api', '10.0.1.1', 9000, { score: 70, status: 'DEGRADED', reasons: ['error rate 30% in real traffic', HOSTILE.img] }),
      fakeEndpoint('edge:v2.eu-1', '10.0.2.1', 7000, { score: 80 }),
      fakeEndpoint('edge:v2.eu-1', '10.0.2.2', 7000, { score: 100 }),
    ],
  });
}
