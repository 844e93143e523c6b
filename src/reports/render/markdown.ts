/**
 * Markdown (GitHub flavoured): headings, the key facts, notes, and every table as a GFM table.
 * Cell text is escaped: `|` and Markdown punctuation get a backslash, `< > &` become entities (so no
 * HTML passes through), line breaks become spaces. Charts are left to the HTML format.
 */
import type { ReportDocument, Table } from '../document.js';
import { formatCell, isNumeric } from './cells.js';

/** Escapes inline text (a table cell): entities for `& < >`, a backslash before `\ | ` * _ [ ] ~`, line breaks as spaces. */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, ' ');
}

/** Escapes a paragraph: inline escaping, and a block marker at its start (`# + - = !`, `1.`) loses its meaning. */
export function escapeMarkdownBlock(s: string): string {
  return escapeMarkdown(s).replace(/^(\s*)(?:([#+\-=!])|(\d+)\.)/, (_m, sp: string, mark: string | undefined, num: string | undefined) =>
    mark ? `${sp}\\${mark}` : `${sp}${num}\\.`,
  );
}

function* tableMarkdown(t: Table): Generator<string> {
  yield `\n### ${escapeMarkdown(t.title)}\n\n`;
  yield `| ${t.columns.map((c) => escapeMarkdown(c.label)).join(' | ')} |\n`;
  yield `|${t.columns.map((c) => (isNumeric(c.kind) ? ' ---: ' : ' --- ')).join('|')}|\n`;
  let buf = '';
  let n = 0;
  for (const row of t.rows()) {
    buf += `| ${t.columns.map((c, i) => escapeMarkdown(formatCell(row[i] ?? null, c.kind))).join(' | ')} |\n`;
    if (++n % 500 === 0) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
  if (t.rowCount === 0) yield '\n_none_\n';
}

export async function* renderMarkdown(doc: ReportDocument): AsyncGenerator<string> {
  yield `# healthmesh: ${escapeMarkdown(doc.title)}\n\n`;
  yield '| | |\n| --- | --- |\n';
  yield doc.facts.map(([k, v]) => `| ${escapeMarkdown(k)} | ${escapeMarkdown(v)} |\n`).join('');
  for (const s of doc.sections) {
    yield `\n## ${escapeMarkdown(s.title)}\n\n`;
    for (const note of s.notes) yield `${escapeMarkdownBlock(note)}\n\n`;
    for (const t of s.tables) yield* tableMarkdown(t);
  }
  yield '\n_Times are UTC._\n';
}
