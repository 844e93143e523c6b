/**
 * XLSX via exceljs' streaming writer: a "report" sheet with the key facts and notes, then one sheet
 * per table (named by the table id), header row bold on a grey fill and frozen. Numbers are numeric
 * cells; times are date cells (UTC), durations Excel durations ([h]:mm:ss), percentages 0..100.
 * Text is always a text cell, never a formula, whatever it starts with (line breaks as LF; an empty
 * text is an empty cell). Rows are committed as they
 * are written, so a large table is not held in memory as a workbook.
 */
import { PassThrough, type Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { Cell, Column, ReportDocument } from '../document.js';

const DAY_MS = 86_400_000;
/** Excel refuses more characters in a cell. */
const MAX_CELL_TEXT = 32_767;

function header(c: Column): string {
  return c.kind === 'duration' ? `${c.label} (h:mm:ss)` : c.kind === 'percent' ? `${c.label} (%)` : c.kind === 'time' ? `${c.label} (UTC)` : c.label;
}

function numFmt(c: Column): string | undefined {
  switch (c.kind) {
    case 'time':
      return 'yyyy-mm-dd hh:mm:ss';
    case 'duration':
      return '[h]:mm:ss';
    case 'percent':
      return '0.00';
    case 'integer':
      return '0';
    default:
      return undefined;
  }
}

function width(c: Column): number {
  if (c.kind === 'time') return 20;
  if (c.kind !== 'text') return Math.max(10, Math.min(18, header(c).length + 2));
  return /message|reason|outlook|endpoint|subject/i.test(c.label) ? 48 : 20;
}

function xlsxCell(cell: Cell, c: Column): ExcelJS.CellValue {
  if (cell === null) return null;
  if (typeof cell === 'string') {
    if (cell === '') return null;
    // XML turns a bare CR into LF when read; Excel breaks lines in a cell at LF.
    const text = cell.replace(/\r\n?/g, '\n');
    return text.length > MAX_CELL_TEXT ? text.slice(0, MAX_CELL_TEXT) : text;
  }
  if (c.kind === 'time') return new Date(cell);
  if (c.kind === 'duration') return cell / DAY_MS;
  return cell;
}

function styleHeader(row: ExcelJS.Row): void {
  row.font = { bold: true };
  row.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE5E7EB' } };
  row.alignment = { vertical: 'middle' };
}

async function write(doc: ReportDocument, out: PassThrough): Promise<void> {
  // Loaded on the first XLSX report: exceljs is ~20 MiB a control plane that never renders one does not need.
  const { default: excel } = await import('exceljs');
  const wb = new excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  wb.creator = 'healthmesh';
  wb.title = doc.title;

  const info = wb.addWorksheet('report', { views: [{ state: 'frozen', ySplit: 1 }] });
  info.columns = [
    { header: 'Field', key: 'k', width: 22 },
    { header: 'Value', key: 'v', width: 90 },
  ];
  styleHeader(info.getRow(1));
  info.getRow(1).commit();
  for (const [k, v] of doc.facts) info.addRow([k, v]).commit();
  for (const s of doc.sections) for (const note of s.notes) info.addRow([s.title, note]).commit();
  for (const s of doc.sections) for (const t of s.tables) info.addRow(['Sheet', `${t.id}: ${t.title}`]).commit();
  info.commit();

  for (const s of doc.sections) {
    for (const t of s.tables) {
      const ws = wb.addWorksheet(t.id.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
      ws.columns = t.columns.map((c, i) => {
        const fmt = numFmt(c);
        return { header: header(c), key: `c${i}`, width: width(c), ...(fmt ? { style: { numFmt: fmt } } : {}) };
      });
      styleHeader(ws.getRow(1));
      ws.getRow(1).commit();
      for (const row of t.rows()) ws.addRow(t.columns.map((c, i) => xlsxCell(row[i] ?? null, c))).commit();
      ws.commit();
    }
  }
  await wb.commit();
}

export function renderXlsx(doc: ReportDocument): Readable {
  const out = new PassThrough();
  write(doc, out).catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}
