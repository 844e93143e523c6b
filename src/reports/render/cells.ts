/** Formatting of document cells for the human formats (HTML, Markdown). */
import type { Cell, ColumnKind } from '../document.js';
import { formatSpan, formatTime } from '../format.js';

const trimNumber = (v: number, digits: number): string => {
  const s = v.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
};

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return trimNumber(v, a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 4);
}

/** A cell as text ('' for null). */
export function formatCell(cell: Cell, kind: ColumnKind): string {
  if (cell === null) return '';
  if (typeof cell === 'string') return cell;
  switch (kind) {
    case 'integer':
      return String(Math.round(cell));
    case 'percent':
      return `${trimNumber(cell, 2)}%`;
    case 'time':
      return formatTime(cell)
        .replace('T', ' ')
        .replace(/\.000Z$/, 'Z');
    case 'duration':
      return formatSpan(cell);
    default:
      return formatNumber(cell);
  }
}

export const isNumeric = (kind: ColumnKind): boolean => kind === 'integer' || kind === 'number' || kind === 'percent' || kind === 'duration';
