/** A strict reader of the Prometheus text exposition format, for the metrics tests. */
export interface ExpositionSample {
  name: string;
  /** The family (`# TYPE`) the sample belongs to. */
  family: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  families: Map<string, { type: string; help: string }>;
  samples: ExpositionSample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
/** As Prometheus reads values (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`). */
const VALUE = /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|[-+]?inf)$/i;

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`line ${line}: bad labels {${text}}`);
    if (m[1] in labels) throw new Error(`line ${line}: duplicate label ${m[1]}`);
    labels[m[1]] = m[2].replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    pos = re.lastIndex;
  }
  return labels;
}

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line is a HELP, a TYPE or a
 * sample (empty lines are ignored); every sample belongs to a family declared by a preceding `# TYPE` (histogram samples as
 * `_bucket` with `le`, `_sum`, `_count`); no family is declared twice.
 */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, { type: string; help: string }>();
  const helps = new Map<string, string>();
  const samples: ExpositionSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return; // the format ignores empty lines (prom-client separates families with one)
    const help = HELP_LINE.exec(raw);
    if (help?.[1]) {
      helps.set(help[1], help[2] ?? '');
      return;
    }
    const type = TYPE_LINE.exec(raw);
    if (type?.[1] && type[2]) {
      if (families.has(type[1])) throw new Error(`line ${n}: family ${type[1]} declared twice`);
      families.set(type[1], { type: type[2], help: helps.get(type[1]) ?? '' });
      return;
    }
    if (raw.startsWith('#')) throw new Error(`line ${n}: unexpected comment ${raw}`);
    const m = SAMPLE_LINE.exec(raw);
    if (!m?.[1] || m[3] === undefined) throw new Error(`line ${n}: not a sample: ${raw}`);
    if (!VALUE.test(m[3])) throw new Error(`line ${n}: bad value ${m[3]}`);
    const name = m[1];
    const labels = parseLabels(m[2] ?? '', n);
    const family = familyOf(name, labels, families);
    if (!family) throw new Error(`line ${n}: sample ${name} has no # TYPE family`);
    samples.push({ name, family, labels, value: /nan/i.test(m[3]) ? Number.NaN : Number(m[3].replace(/inf$/i, 'Infinity')) });
  });
  return { families, samples };
}

function familyOf(name: string, labels: Record<string, string>, families: Map<string, { type: string }>): string | undefined {
  const direct = families.get(name);
  if (direct && direct.type !== 'histogram') return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const f = families.get(base);
    if (!f || (f.type !== 'histogram' && f.type !== 'summary')) continue;
    if (suffix === '_bucket' && (f.type !== 'histogram' || labels.le === undefined)) return undefined;
    return base;
  }
  return undefined;
}
