/** Escaping for HTML / SVG text and attribute values (every interpolated value goes through it). */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes `& < > " '` and replaces control characters (other than tab, LF, CR) and lone surrogates
 * with U+FFFD, so that any string is safe as element text or as a quoted attribute value.
 */
export function escapeHtml(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return (
    s
      .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  );
}
