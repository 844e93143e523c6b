/**
 * CSV: RFC 4180 (CRLF records, quoted where needed) via csv-stringify, one table per file (the
 * report's primary table unless another is asked for), a header row first. Values that a
 * spreadsheet would run as a formula (text starting with = + - @, tab or CR, and their full-width
 * forms) are neutralised with a leading `'` (csv-stringify's `escape_formulas`); numbers stay
 * numbers. Times are ISO 8601 (UTC), durations milliseconds, percentages 0..100.
 */
import { InvalidArgumentError } from '../../errors.js';
import { tableById, type Cell, type Column, type ReportDocument, type Table } from '../document.js';

const ROWS_PER_CHUNK = 500;

/**
 * quote_record_delimiter: csv-stringify quotes a field holding CR or LF only for its default record
 * delimiter; with CRLF records it must be asked to, or a message with a line break splits its row.
 */
const OPTIONS = { escape_formulas: true, record_delimiter: 'windows', quote_record_delimiter: true, quoted_match: /^\s|\s$/ } as const;

export function csvHeader(c: Column): string {
  return c.kind === 'duration' ? `${c.label} (ms)` : c.kind === 'percent' ? `${c.label} (%)` : c.kind === 'time' ? `${c.label} (UTC)` : c.label;
}

function csvCell(cell: Cell, c: Column): string | number | null {
  if (cell === null) return null;
  if (c.kind === 'time' && typeof cell === 'number') return new Date(cell).toISOString();
  return cell;
}

/** The table a CSV carries: `table` or the document's primary one. */
export function csvTable(doc: ReportDocument, table?: string): Table {
  const id = table ?? doc.primaryTable;
  const t = tableById(doc, id);
  if (!t) throw new InvalidArgumentError('table', `report ${doc.type} has no table ${JSON.stringify(id.slice(0, 40))}`);
  return t;
}

export async function* renderCsv(doc: ReportDocument, table?: string): AsyncGenerator<string> {
  const t = csvTable(doc, table);
  // Loaded on the first CSV report, like exceljs for XLSX: a control plane that never renders one does not carry it.
  const { stringify } = await import('csv-stringify/sync');
  yield stringify([t.columns.map(csvHeader)], OPTIONS);
  let batch: Array<Array<string | number | null>> = [];
  for (const row of t.rows()) {
    batch.push(t.columns.map((c, i) => csvCell(row[i] ?? null, c)));
    if (batch.length >= ROWS_PER_CHUNK) {
      yield stringify(batch, OPTIONS);
      batch = [];
    }
  }
  if (batch.length) yield stringify(batch, OPTIONS);
}
