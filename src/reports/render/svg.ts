/**
 * Inline SVG charts for the HTML report: line charts (series over time, with an optional trend line,
 * prediction band, threshold and anomaly markers) and horizontal bar charts. Presentation
 * attributes only (no `style` attributes, no fonts, no external references), so they render under
 * a CSP that allows no inline styles but the page's own hashed stylesheet; every text is escaped.
 */
import type { BarChart, LineChart } from '../document.js';
import { formatMetric } from '../format.js';
import type { Point } from '../model.js';
import { escapeHtml as esc } from './escape.js';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const W = 580;
const H = 230;
const M = { left: 60, right: 16, top: 42, bottom: 30 };
const FONT = 'font-family="sans-serif"';

const f1 = (n: number): string => (Math.round(n * 10) / 10).toString();

function timeLabel(ms: number, span: number): string {
  const iso = new Date(ms).toISOString();
  return span > 2 * 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : span > 3_600_000 ? `${iso.slice(11, 16)}Z` : `${iso.slice(11, 19)}Z`;
}

function valueLabel(v: number, chart: LineChart): string {
  if (chart.metric) return formatMetric(chart.metric, v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

/** Gaps longer than this many median spacings break the line. */
const GAP_FACTOR = 3;

/** The line through the points, broken at gaps; '' for fewer than two points (a lone point is drawn as a dot). */
function pathOf(points: readonly Point[], x: (t: number) => number, y: (v: number) => number): string {
  if (points.length < 2) return '';
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) gaps.push(points[i]!.t - points[i - 1]!.t);
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  let d = '';
  points.forEach((p, i) => {
    const gap = i > 0 && median > 0 && p.t - points[i - 1]!.t > GAP_FACTOR * median;
    d += `${i === 0 || gap ? 'M' : 'L'}${f1(x(p.t))} ${f1(y(p.v))}`;
  });
  return d;
}

export function lineChartSvg(chart: LineChart, id: string): string {
  const values = chart.series.flatMap((s) => s.points.map((p) => p.v));
  if (chart.overlay) {
    values.push(...chart.overlay.line.map((p) => p.v));
    if (chart.overlay.band) values.push(chart.overlay.band.low, chart.overlay.band.high);
  }
  if (chart.threshold !== undefined) values.push(chart.threshold);
  let lo = chart.yMin ?? Math.min(...values, 0);
  let hi = chart.yMax ?? (values.length ? Math.max(...values) : 1);
  if (chart.yMax !== undefined && values.length) hi = Math.max(hi, ...values.filter(Number.isFinite));
  if (chart.yMin !== undefined && values.length) lo = Math.min(lo, ...values.filter(Number.isFinite));
  if (!(hi > lo)) hi = lo + 1;
  if (chart.yMax === undefined) hi += (hi - lo) * 0.05;
  const from = chart.from;
  const to = chart.to > from ? chart.to : from + 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number): number => M.left + ((t - from) / (to - from)) * pw;
  const y = (v: number): number => M.top + ph - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * ph;
  const titleId = `${id}-title`;
  const out: string[] = [];
  out.push(`<svg class="chart line" id="${esc(id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${esc(titleId)}">`);
  out.push(`<title id="${esc(titleId)}">${esc(chart.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left}" y="18" font-size="13" font-weight="bold" ${FONT} fill="#111827">${esc(chart.title)}</text>`);
  // Grid and y labels.
  for (const share of [0, 0.5, 1]) {
    const v = lo + (hi - lo) * share;
    const gy = f1(y(v));
    out.push(`<line x1="${M.left}" y1="${gy}" x2="${W - M.right}" y2="${gy}" stroke="#e5e7eb" stroke-width="1"/>`);
    out.push(`<text x="${M.left - 6}" y="${gy}" dy="4" font-size="10" text-anchor="end" ${FONT} fill="#6b7280">${esc(valueLabel(v, chart))}</text>`);
  }
  // x labels.
  for (const share of [0, 0.5, 1]) {
    const t = from + (to - from) * share;
    const anchor = share === 0 ? 'start' : share === 1 ? 'end' : 'middle';
    out.push(`<text x="${f1(x(t))}" y="${H - 10}" font-size="10" text-anchor="${anchor}" ${FONT} fill="#6b7280">${esc(timeLabel(t, to - from))}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${W - M.right}" y2="${M.top + ph}" stroke="#9ca3af" stroke-width="1"/>`);
  if (chart.threshold !== undefined) {
    const ty = f1(y(chart.threshold));
    out.push(`<line class="threshold" x1="${M.left}" y1="${ty}" x2="${W - M.right}" y2="${ty}" stroke="#dc2626" stroke-width="1" stroke-dasharray="4 3"/>`);
    out.push(
      `<text x="${W - M.right}" y="${ty}" dy="-3" font-size="10" text-anchor="end" ${FONT} fill="#dc2626">${esc(`threshold ${valueLabel(chart.threshold, chart)}`)}</text>`,
    );
  }
  if (chart.overlay?.band) {
    const b = chart.overlay.band;
    const bx = f1(x(b.at));
    out.push(`<line class="band" x1="${bx}" y1="${f1(y(b.low))}" x2="${bx}" y2="${f1(y(b.high))}" stroke="#6b7280" stroke-width="6" stroke-opacity="0.35"/>`);
  }
  chart.series.forEach((s, i) => {
    const colour = PALETTE[(s.colour ?? i) % PALETTE.length];
    const d = pathOf(s.points, x, y);
    if (d)
      out.push(`<path class="series" d="${d}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-linejoin="round"><title>${esc(s.name)}</title></path>`);
    const only = s.points.length === 1 ? s.points[0] : undefined;
    if (only) out.push(`<circle class="point" cx="${f1(x(only.t))}" cy="${f1(y(only.v))}" r="3" fill="${colour}"/>`);
  });
  if (chart.overlay && chart.overlay.line.length >= 2) {
    const d = pathOf(chart.overlay.line, x, y);
    out.push(`<path class="trend" d="${d}" fill="none" stroke="#111827" stroke-width="1.2" stroke-dasharray="6 4"/>`);
  }
  for (const m of chart.markers ?? []) out.push(`<circle class="anomaly" cx="${f1(x(m.t))}" cy="${f1(y(m.v))}" r="3" fill="#dc2626"/>`);
  if (chart.series.length > 1) {
    let lx = M.left;
    chart.series.forEach((s, i) => {
      const label = s.name.length > 24 ? `${s.name.slice(0, 23)}…` : s.name;
      out.push(`<rect x="${lx}" y="${M.top - 14}" width="10" height="3" fill="${PALETTE[(s.colour ?? i) % PALETTE.length]}"/>`);
      out.push(`<text x="${lx + 14}" y="${M.top - 10}" font-size="10" ${FONT} fill="#374151">${esc(label)}</text>`);
      lx += 24 + label.length * 6;
    });
  }
  if (values.length === 0) out.push(`<text x="${W / 2}" y="${H / 2}" font-size="12" text-anchor="middle" ${FONT} fill="#6b7280">no data</text>`);
  out.push('</svg>');
  return out.join('');
}

export function barChartSvg(chart: BarChart, id: string): string {
  const row = 20;
  const labelW = 240;
  const valueW = 70;
  const barW = W - labelW - valueW - 16;
  const top = 28;
  const h = top + Math.max(1, chart.bars.length) * row + 8;
  const max = chart.max > 0 ? chart.max : 1;
  const titleId = `${id}-title`;
  const out: string[] = [];
  out.push(`<svg class="chart bars" id="${esc(id)}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-labelledby="${esc(titleId)}">`);
  out.push(`<title id="${esc(titleId)}">${esc(chart.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${h}" fill="#ffffff"/>`);
  out.push(`<text x="4" y="18" font-size="13" font-weight="bold" ${FONT} fill="#111827">${esc(chart.title)}</text>`);
  chart.bars.forEach((b, i) => {
    const y = top + i * row;
    const label = b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label;
    out.push(
      `<text x="${labelW - 6}" y="${y + 14}" font-size="11" text-anchor="end" ${FONT} fill="#374151">${esc(label)}<title>${esc(b.label)}</title></text>`,
    );
    out.push(`<rect x="${labelW}" y="${y + 3}" width="${barW}" height="${row - 6}" fill="#f3f4f6"/>`);
    if (b.value === null) {
      out.push(`<text x="${labelW + barW + 6}" y="${y + 14}" font-size="11" ${FONT} fill="#9ca3af">no data</text>`);
      return;
    }
    const share = Math.min(1, Math.max(0, b.value / max));
    const colour = chart.unit === '%' ? (b.value >= 99.9 ? '#16a34a' : b.value >= 99 ? '#ca8a04' : '#dc2626') : '#2563eb';
    out.push(`<rect class="bar" x="${labelW}" y="${y + 3}" width="${f1(Math.max(share * barW, 1))}" height="${row - 6}" fill="${colour}"/>`);
    const text = chart.unit === '%' ? `${b.value.toFixed(2)}%` : `${Math.round(b.value)}${chart.unit}`;
    out.push(`<text x="${labelW + barW + 6}" y="${y + 14}" font-size="11" ${FONT} fill="#111827">${esc(text)}</text>`);
  });
  if (chart.bars.length === 0) out.push(`<text x="${labelW}" y="${top + 14}" font-size="11" ${FONT} fill="#9ca3af">no data</text>`);
  out.push('</svg>');
  return out.join('');
}
