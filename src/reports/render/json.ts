/**
 * JSON: the report model itself. Streamed: the top-level arrays (endpoints, alerts, trend entries)
 * are serialised one element at a time, one element per line, so the whole text never exists at once.
 */
import type { Report } from '../model.js';

const CHUNK = 64 * 1024;

export async function* renderJson(report: Report): AsyncGenerator<string> {
  let buf = '{';
  let first = true;
  for (const [key, value] of Object.entries(report)) {
    if (value === undefined) continue;
    buf += `${first ? '' : ','}\n${JSON.stringify(key)}:`;
    first = false;
    if (Array.isArray(value) && value.length > 0) {
      buf += '[';
      for (let i = 0; i < value.length; i++) {
        buf += `${i ? ',' : ''}\n${JSON.stringify(value[i])}`;
        if (buf.length >= CHUNK) {
          yield buf;
          buf = '';
        }
      }
      buf += '\n]';
    } else buf += JSON.stringify(value);
  }
  yield `${buf}\n}\n`;
}
