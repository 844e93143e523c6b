/** Human formatting shared by the builder (trend sentences) and the text renderers. */
import { humanDuration } from '../core/trend.js';
import { METRIC_INFO, type MetricName } from './model.js';

const trim = (n: number, digits: number): string => {
  const s = n.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
};

/** A metric value as people read it: "93%", "1.2 ms"→"1.2 ms", error rate 0.25 → "25%", score "71.5". */
export function formatMetric(metric: MetricName, v: number): string {
  switch (metric) {
    case 'errorRate':
      return `${trim(v * 100, 2)}%`;
    case 'cpuPercent':
    case 'memoryPercent':
    case 'diskPercent':
      return `${trim(v, 1)}%`;
    case 'latencyMs':
      return `${trim(v, v < 10 ? 2 : 0)} ms`;
    case 'score':
      return trim(v, 1);
  }
}

export function formatDuration(ms: number): string {
  return humanDuration(ms);
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Compact UTC stamp for file names: 20261125T103000Z. */
export function fileStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function metricLabel(metric: MetricName): string {
  return METRIC_INFO[metric].label;
}

/** An exact-ish duration for tables: "850 ms", "4 min 5 s", "2 h 13 min", "3 d 4 h". */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const neg = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${neg}${Math.round(a)} ms`;
  const s = Math.round(a / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts =
    d > 0
      ? [
          [d, 'd'],
          [h, 'h'],
        ]
      : h > 0
        ? [
            [h, 'h'],
            [m, 'min'],
          ]
        : m > 0
          ? [
              [m, 'min'],
              [sec, 's'],
            ]
          : [[sec, 's']];
  return (
    neg +
    parts
      .filter(([n], i) => i === 0 || n !== 0)
      .map(([n, u]) => `${n} ${u}`)
      .join(' ')
  );
}
