/** Every report type in every format, parsed back: JSON against the schema, CSV with csv-parse, HTML escaping, Markdown table shape, XLSX with exceljs. */
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { buildReport } from '../../src/reports/build.js';
import { REPORT_TABLES, allTables, toDocument } from '../../src/reports/document.js';
import { REPORT_TYPES, type Report, type ReportType } from '../../src/reports/model.js';
import { renderReport, renderToBuffer } from '../../src/reports/render/index.js';
import { reportSchemas } from '../../src/reports/schema.js';
import type { Store } from '../../src/store/index.js';
import { HOSTILE, MINUTE, RANGE, seededOperations, seededStore } from '../support/report-fixtures.js';

let store: Store;
const reports = new Map<ReportType, Report>();

beforeAll(async () => {
  store = seededStore();
  const source = { store, ops: seededOperations() };
  for (const type of REPORT_TYPES) reports.set(type, await buildReport(source, type, RANGE, { now: () => RANGE.to + MINUTE }));
});
afterAll(() => store.close());

const report = (type: ReportType): Report => reports.get(type)!;
const text = async (type: ReportType, format: 'json' | 'html' | 'csv' | 'md', table?: string): Promise<string> =>
  (await renderToBuffer(report(type), format, { table })).toString('utf8');

/** Hostile strings that the seeded data carries, per report type (what must come through, escaped). */
const HOSTILE_IN: Record<ReportType, string[]> = {
  summary: [HOSTILE.img],
  detailed: [HOSTILE.script, HOSTILE.formula, HOSTILE.pipe, HOSTILE.minus],
  metrics: [],
  alerts: [HOSTILE.script, HOSTILE.formula, HOSTILE.plus, HOSTILE.markdown],
  trends: [],
};

const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

describe.each(REPORT_TYPES)('%s report', (type) => {
  it('document tables match REPORT_TABLES (primary first)', () => {
    const doc = toDocument(report(type));
    expect(doc.primaryTable).toBe(REPORT_TABLES[type][0]);
    expect(
      allTables(doc)
        .map((t) => t.id)
        .sort(),
    ).toEqual([...REPORT_TABLES[type]].sort());
    for (const t of allTables(doc)) {
      const rows = [...t.rows()];
      expect(rows).toHaveLength(t.rowCount);
      for (const row of rows) expect(row).toHaveLength(t.columns.length);
    }
  });

  it('JSON: the model itself, valid against the schema', async () => {
    const body = await text(type, 'json');
    const parsed: unknown = JSON.parse(body);
    expect(() => reportSchemas[type].parse(parsed)).not.toThrow();
    expect(parsed).toEqual(JSON.parse(JSON.stringify(report(type))));
  });

  it.each(REPORT_TABLES[type])('CSV (%s): RFC 4180, header, every row, formulas neutralised, numbers as numbers', async (table) => {
    const body = await text(type, 'csv', table);
    expect(body.endsWith('\r\n')).toBe(true);
    expect(body.replace(/"[^"]*"/g, '').match(/(?<!\r)\n/)).toBeNull(); // every record ends in CRLF
    const rows = parseCsv(body, { relax_column_count: false, bom: true }) as string[][];
    const t = allTables(toDocument(report(type))).find((x) => x.id === table)!;
    expect(rows[0]).toEqual(
      t.columns.map((c) =>
        c.kind === 'duration' ? `${c.label} (ms)` : c.kind === 'percent' ? `${c.label} (%)` : c.kind === 'time' ? `${c.label} (UTC)` : c.label,
      ),
    );
    expect(rows.length - 1).toBe(t.rowCount);
    const raw = [...t.rows()];
    rows.slice(1).forEach((row, r) => {
      row.forEach((cell, c) => {
        const kind = t.columns[c]!.kind;
        const original = raw[r]![c];
        if (original === null || original === undefined) expect(cell).toBe('');
        else if (typeof original === 'number' && kind === 'time') expect(Date.parse(cell)).toBe(original);
        else if (typeof original === 'number') expect(Number(cell)).toBe(original);
        else if (FORMULA_START.test(original)) expect(cell).toBe(`'${original}`);
        else expect(cell).toBe(original);
        if (typeof original === 'string') expect(cell).not.toMatch(FORMULA_START);
      });
    });
  });

  it('CSV: an unknown table is an InvalidArgumentError naming "table"', () => {
    expect(() => renderReport(report(type), 'csv', { table: 'nope' })).toThrow(InvalidArgumentError);
    try {
      renderReport(report(type), 'csv', { table: 'nope' });
    } catch (err) {
      expect((err as InvalidArgumentError).field).toBe('table');
    }
  });

  it('HTML: self-contained, strict CSP, every value escaped', async () => {
    const html = await text(type, 'html');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-[A-Za-z0-9+/=]+&#39;;/);
    // Nothing that loads or runs anything: no such element, no such attribute in any tag, no CSS that fetches.
    expect(html).not.toMatch(/<(script|img|iframe|object|embed|link|base|image|use|foreignObject)\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    const tags = [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0]);
    for (const tag of tags) {
      expect(tag).not.toMatch(/\s(on[a-z]+|src|srcset|action|formaction|xlink:href|data|style)=/i);
      const href = /\shref="([^"]*)"/.exec(tag);
      if (href) expect(href[1]).toMatch(/^#[a-z0-9-]+$/);
    }
    // The only elements are ours.
    const names = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase()));
    for (const tag of names)
      expect([
        'html',
        'head',
        'meta',
        'title',
        'style',
        'body',
        'header',
        'h1',
        'h2',
        'h3',
        'dl',
        'dt',
        'dd',
        'nav',
        'ul',
        'li',
        'a',
        'main',
        'section',
        'p',
        'div',
        'svg',
        'rect',
        'text',
        'line',
        'path',
        'circle',
        'table',
        'thead',
        'tbody',
        'tr',
        'th',
        'td',
        'small',
        'footer',
      ]).toContain(tag);
    for (const s of HOSTILE_IN[type]) {
      const escaped = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
      expect(html).toContain(escaped);
    }
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThan(0);
  });

  it('Markdown: GitHub tables with a consistent column count, pipes and markup escaped', async () => {
    const md = await text(type, 'md');
    expect(md).not.toMatch(/<[a-zA-Z/]/); // no raw HTML at all
    const lines = md.split('\n');
    const unescapedPipes = (line: string): number => {
      let n = 0;
      for (let i = 0; i < line.length; i++) {
        if (line[i] === '\\') i++;
        else if (line[i] === '|') n++;
      }
      return n;
    };
    let tables = 0;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
      tables++;
      const block: string[] = [];
      for (let j = i; j < lines.length && lines[j]!.startsWith('|'); j++) block.push(lines[j]!);
      expect(block.length).toBeGreaterThanOrEqual(2);
      expect(block[1]).toMatch(/^\|( -{3,}:? \|)+$/);
      const cols = unescapedPipes(block[0]!);
      for (const line of block) {
        expect(unescapedPipes(line)).toBe(cols);
        expect(line.endsWith('|')).toBe(true);
      }
    }
    expect(tables).toBe(1 + allTables(toDocument(report(type))).length);
    if (type === 'alerts') {
      expect(md).toContain('flapping a \\| b \\| c');
      expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(md).toContain('\\[click\\](http://evil.example/) \\*\\*bold\\*\\* \\`code\\`');
    }
  });

  it('XLSX: a sheet per table, styled header, numbers as numbers, text never a formula', async () => {
    const buf = await renderToBuffer(report(type), 'xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    const doc = toDocument(report(type));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['report', ...allTables(doc).map((t) => t.id)]);
    const info = wb.getWorksheet('report')!;
    expect(info.getCell('A2').value).toBe('Report');
    for (const t of allTables(doc)) {
      const ws = wb.getWorksheet(t.id)!;
      expect(ws.rowCount).toBe(t.rowCount + 1);
      const header = ws.getRow(1);
      expect(header.font?.bold).toBe(true);
      t.columns.forEach((c, i) => expect(String(header.getCell(i + 1).value)).toContain(c.label));
      const raw = [...t.rows()];
      raw.forEach((row, r) => {
        row.forEach((v, c) => {
          const cell = ws.getRow(r + 2).getCell(c + 1);
          const kind = t.columns[c]!.kind;
          if (v === null || v === '') expect(cell.value).toBeNull();
          else if (typeof v === 'string') {
            expect(cell.type).toBe(ExcelJS.ValueType.String);
            expect(cell.value).toBe(v.replace(/\r\n?/g, '\n'));
          } else if (kind === 'time') expect((cell.value as Date).getTime()).toBe(v);
          else if (kind === 'duration') {
            // Stored as a number of days; exceljs reads a number with a time format back as a Date from 1899-12-30.
            const days = cell.value instanceof Date ? (cell.value.getTime() - Date.UTC(1899, 11, 30)) / 86_400_000 : (cell.value as number);
            expect(days).toBeCloseTo(v / 86_400_000, 6);
          } else {
            expect(cell.type).toBe(ExcelJS.ValueType.Number);
            expect(cell.value).toBe(v);
          }
        });
      });
    }
    if (type === 'alerts') {
      const ws = wb.getWorksheet('alerts')!;
      const messages = ws.getColumn(11).values.slice(2);
      expect(messages).toContain(HOSTILE.formula);
    }
  });
});

describe('CSV neutralisation', () => {
  it('prefixes text cells that a spreadsheet would run, in the alerts table', async () => {
    const rows = parseCsv(await text('alerts', 'csv'), {}) as string[][];
    const header = rows[0]!;
    const message = header.indexOf('Message');
    const ackBy = header.indexOf('Acknowledged by');
    const messages = rows.slice(1).map((r) => r[message]);
    expect(messages).toContain(`'${HOSTILE.formula}`);
    expect(messages).toContain(`'${HOSTILE.tab} / ${HOSTILE.cr} / ${HOSTILE.quote}`);
    expect(rows.slice(1).map((r) => r[ackBy])).toContain(`'${HOSTILE.plus}`);
  });

  it('leaves negative numbers alone and prefixes text starting with "-"', async () => {
    const rows = parseCsv(await text('detailed', 'csv', 'reasons'), {}) as string[][];
    expect(rows.map((r) => r[1])).toContain(`'${HOSTILE.minus}`);
    const trends = parseCsv(await text('trends', 'csv'), { columns: true }) as Array<Record<string, string>>;
    const negative = trends.find((t) => t['Slope per hour']!.startsWith('-'));
    expect(negative).toBeDefined();
    expect(Number(negative!['Slope per hour'])).toBeLessThan(0);
  });

  it('shows no slope for a trend with too few points to call a direction', async () => {
    const trends = parseCsv(await text('trends', 'csv'), { columns: true }) as Array<Record<string, string>>;
    const few = trends.filter((t) => t['Direction'] === 'insufficient-data');
    expect(few.length).toBeGreaterThan(0);
    expect(few.map((t) => t['Slope per hour'])).toEqual(few.map(() => ''));
    expect(trends.filter((t) => t['Direction'] !== 'insufficient-data').every((t) => t['Slope per hour'] !== '')).toBe(true);
  });
});
