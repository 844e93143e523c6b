/** One entry point for every format: the content type, the file extension and the body as a stream. */
import { Readable } from 'node:stream';
import { csvTable, renderCsv } from './csv.js';
import { toDocument, type DocumentOptions } from '../document.js';
import type { Report, ReportFormat } from '../model.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderXlsx } from './xlsx.js';

export { HTML_CSP } from './html.js';
export { escapeHtml } from './escape.js';
export { escapeMarkdown } from './markdown.js';

export const CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  md: 'text/markdown; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export const EXTENSIONS: Readonly<Record<ReportFormat, string>> = { json: 'json', html: 'html', csv: 'csv', md: 'md', xlsx: 'xlsx' };

export interface RenderOptions extends DocumentOptions {
  /** CSV only: which table (default: the report's primary table). */
  table?: string | undefined;
}

export interface RenderedReport {
  contentType: string;
  extension: string;
  body: Readable;
}

/**
 * Renders a report. Throws InvalidArgumentError (field `table`) synchronously for an unknown CSV
 * table, before any byte is produced; later failures surface as stream errors.
 */
export function renderReport(report: Report, format: ReportFormat, opts: RenderOptions = {}): RenderedReport {
  const head = { contentType: CONTENT_TYPES[format], extension: EXTENSIONS[format] };
  switch (format) {
    case 'json':
      return { ...head, body: Readable.from(renderJson(report), { objectMode: false }) };
    case 'csv': {
      const doc = toDocument(report, opts);
      csvTable(doc, opts.table);
      return { ...head, body: Readable.from(renderCsv(doc, opts.table), { objectMode: false }) };
    }
    case 'md':
      return { ...head, body: Readable.from(renderMarkdown(toDocument(report, opts)), { objectMode: false }) };
    case 'html':
      return { ...head, body: Readable.from(renderHtml(toDocument(report, opts)), { objectMode: false }) };
    case 'xlsx':
      return { ...head, body: renderXlsx(toDocument(report, opts)) };
  }
}

/** The whole rendering in memory (tests, small reports). */
export async function renderToBuffer(report: Report, format: ReportFormat, opts: RenderOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of renderReport(report, format, opts).body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
  return Buffer.concat(chunks);
}
