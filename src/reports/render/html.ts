/**
 * HTML: one self-contained file. No scripts, no external resources of any kind (no CDN, no web fonts,
 * no images but inline SVG), works offline. The stylesheet is inline and allowed by its hash in a
 * strict Content-Security-Policy meta tag (`default-src 'none'`), so even a value that escaped
 * escaping could neither run script nor load anything. Every interpolated value is escaped.
 */
import { createHash } from 'node:crypto';
import type { Chart, ReportDocument, Section, Table } from '../document.js';
import { escapeHtml as esc } from './escape.js';
import { formatCell, isNumeric } from './cells.js';
import { barChartSvg, lineChartSvg } from './svg.js';

const STYLE = `
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#111827;background:#f9fafb;line-height:1.4}
h1{font-size:1.6em;margin:0.3em 0}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #d1d5db;padding-bottom:4px}h3{font-size:1.05em;margin:1.2em 0 0.4em}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0 16px}dl.facts dt{font-weight:600;color:#374151}dl.facts dd{margin:0}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:12px}nav a{color:#1d4ed8}
.charts{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}.chart{border:1px solid #e5e7eb;border-radius:4px;max-width:100%;height:auto}
.table-wrap{overflow-x:auto}table{border-collapse:collapse;font-size:0.85em;background:#fff;margin:6px 0 12px}
th,td{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top;white-space:nowrap}td.wrap{white-space:normal;min-width:16em;max-width:40em;word-break:break-word}
th{background:#f3f4f6;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
p.note{color:#4b5563;margin:4px 0}footer{margin-top:32px;color:#6b7280;font-size:0.8em}
@media print{body{background:#fff}.chart{break-inside:avoid}}
`;

const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/** The CSP of the report page: nothing but its own stylesheet. Also sent as a header by the admin route. */
export const HTML_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'none'; font-src 'none'; connect-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'`;

/** Columns whose text wraps (long free text). */
const WRAP = new Set(['Message', 'Reasons now', 'Top reasons', 'Reason', 'Outlook', 'Guard reason']);

function chartSvg(chart: Chart, id: string): string {
  return chart.kind === 'line' ? lineChartSvg(chart, id) : barChartSvg(chart, id);
}

function* tableHtml(t: Table): Generator<string> {
  yield `<h3 id="table-${esc(t.id)}">${esc(t.title)} <small>(${t.rowCount} rows)</small></h3><div class="table-wrap"><table data-table="${esc(t.id)}"><thead><tr>`;
  yield t.columns.map((c) => `<th scope="col">${esc(c.label)}</th>`).join('');
  yield '</tr></thead><tbody>';
  let buf = '';
  let n = 0;
  for (const row of t.rows()) {
    buf += '<tr>';
    t.columns.forEach((c, i) => {
      const cls = isNumeric(c.kind) ? ' class="n"' : WRAP.has(c.label) ? ' class="wrap"' : '';
      buf += `<td${cls}>${esc(formatCell(row[i] ?? null, c.kind))}</td>`;
    });
    buf += '</tr>';
    if (++n % 200 === 0) {
      yield buf;
      buf = '';
    }
  }
  if (t.rowCount === 0) buf += `<tr><td colspan="${t.columns.length}">none</td></tr>`;
  yield `${buf}</tbody></table></div>`;
}

function* sectionHtml(s: Section): Generator<string> {
  yield `<section id="section-${esc(s.id)}"><h2>${esc(s.title)}</h2>`;
  for (const note of s.notes) yield `<p class="note">${esc(note)}</p>`;
  if (s.charts.length) {
    yield '<div class="charts">';
    for (let i = 0; i < s.charts.length; i++) yield chartSvg(s.charts[i]!, `chart-${s.id}-${i}`);
    yield '</div>';
  }
  for (const t of s.tables) yield* tableHtml(t);
  yield '</section>';
}

/** The page, in chunks. */
export async function* renderHtml(doc: ReportDocument): AsyncGenerator<string> {
  const title = `healthmesh: ${doc.title}`;
  yield '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">';
  yield `<meta http-equiv="Content-Security-Policy" content="${esc(HTML_CSP)}">`;
  yield '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">';
  yield `<title>${esc(title)}</title><style>${STYLE}</style></head><body>`;
  yield `<header><h1>${esc(title)}</h1><dl class="facts">`;
  yield doc.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  yield '</dl></header><nav><ul>';
  yield doc.sections.map((s) => `<li><a href="#section-${esc(s.id)}">${esc(s.title)}</a></li>`).join('');
  yield '</ul></nav><main>';
  let pending = '';
  for (const s of doc.sections) {
    for (const chunk of sectionHtml(s)) {
      pending += chunk;
      if (pending.length >= 64 * 1024) {
        yield pending;
        pending = '';
      }
    }
  }
  yield `${pending}</main><footer>Generated by healthmesh. Times are UTC. This file is self-contained and loads nothing.</footer></body></html>\n`;
}
