import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { trendSentence } from '../../src/reports/build.js';
import { reportsConfigSchema } from '../../src/reports/config.js';
import { fileStamp, formatMetric, formatSpan } from '../../src/reports/format.js';
import { MAX_RANGE_MS, parseFormat, parseTime, parseType, resolveRange, validateQuery } from '../../src/reports/query.js';
import { escapeHtml } from '../../src/reports/render/escape.js';
import { escapeMarkdown, escapeMarkdownBlock } from '../../src/reports/render/markdown.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).field;
  }
  return undefined;
}

describe('parseTime', () => {
  it.each([
    ['1795564800000', 1_795_564_800_000],
    ['0', 0],
    ['2026-11-25', Date.UTC(2026, 10, 25)],
    ['2026-11-25T10:00Z', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T10:00:00Z', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T10:00:00.5Z', Date.UTC(2026, 10, 25, 10, 0, 0, 500)],
    ['2026-11-25T10:00:00.123456789Z', Date.UTC(2026, 10, 25, 10, 0, 0, 123)],
    ['2026-11-25T10:00:00', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25 10:00:00', Date.UTC(2026, 10, 25, 10)],
    ['2026-11-25T10:00:00+01:00', Date.UTC(2026, 10, 25, 9)],
    ['2026-11-25T10:00:00+0100', Date.UTC(2026, 10, 25, 9)],
    ['2026-11-25T10:00:00-05', Date.UTC(2026, 10, 25, 15)],
    ['  2026-11-25  ', Date.UTC(2026, 10, 25)],
  ])('%s', (text, ms) => {
    expect(parseTime(text, 'from')).toBe(ms);
  });

  it.each([
    '',
    'yesterday',
    'now',
    '-5',
    '1.5',
    '1e12',
    '2026-02-30',
    '2026-13-01',
    '2026-11-25T24:00Z',
    '2026-11-25T10:61Z',
    '2026/11/25',
    'Tue, 25 Nov 2026 10:00:00 GMT',
    '99999999999999999',
  ])('refuses %j naming the field', (text) => {
    expect(fieldOf(() => parseTime(text, 'to'))).toBe('to');
  });
});

describe('query validation', () => {
  const known = () => ['web', 'api'];
  const T = Date.UTC(2026, 10, 25);

  it('accepts a valid query and drops an absent cluster', () => {
    expect(validateQuery({ from: T - 1000, to: T }, known)).toEqual({ from: T - 1000, to: T });
    expect(validateQuery({ from: T - 1000, to: T, cluster: 'web' }, known)).toEqual({ from: T - 1000, to: T, cluster: 'web' });
  });

  it.each([
    [{ from: T, to: T }, 'from'],
    [{ from: T + 1, to: T }, 'from'],
    [{ from: T - MAX_RANGE_MS - 1, to: T }, 'from'],
    [{ from: Number.NaN, to: T }, 'from'],
    [{ from: T - 1, to: Number.POSITIVE_INFINITY }, 'to'],
    [{ from: T - 1, to: T, cluster: 'nope' }, 'cluster'],
    [{ from: T - 1, to: T, cluster: '<script>' }, 'cluster'],
  ])('%j -> InvalidArgumentError(%s)', (q, field) => {
    expect(fieldOf(() => validateQuery(q, known))).toBe(field);
  });

  it('allows exactly 31 days', () => {
    expect(() => validateQuery({ from: T - MAX_RANGE_MS, to: T }, known)).not.toThrow();
  });

  it('resolveRange defaults to the last 24 h and parses what is given', () => {
    expect(resolveRange({}, T)).toEqual({ from: T - 86_400_000, to: T });
    expect(resolveRange({ to: String(T) }, 0)).toEqual({ from: T - 86_400_000, to: T });
    expect(resolveRange({ from: '2026-11-24T00:00Z', to: '2026-11-25' }, 0)).toEqual({ from: T - 86_400_000, to: T });
    expect(fieldOf(() => resolveRange({ from: 'soon' }, T))).toBe('from');
  });

  it('type and format names', () => {
    expect(parseType('trends')).toBe('trends');
    expect(parseFormat('markdown')).toBe('md');
    expect(fieldOf(() => parseType('everything'))).toBe('type');
    expect(fieldOf(() => parseFormat('pdf'))).toBe('format');
  });
});

describe('formatting', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [1000, '1 s'],
    [245_000, '4 min 5 s'],
    [3_600_000, '1 h'],
    [7_980_000, '2 h 13 min'],
    [86_400_000 * 3 + 3_600_000 * 4, '3 d 4 h'],
  ])('formatSpan(%i) = %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });

  it('metric values and file stamps', () => {
    expect(formatMetric('memoryPercent', 90)).toBe('90%');
    expect(formatMetric('errorRate', 0.255)).toBe('25.5%');
    expect(formatMetric('latencyMs', 1234.4)).toBe('1234 ms');
    expect(formatMetric('score', 71.56)).toBe('71.6');
    expect(fileStamp(Date.UTC(2026, 10, 25, 10, 30, 5, 999))).toBe('20261125T103005Z');
  });

  it('trend sentences', () => {
    expect(trendSentence('memoryPercent', { direction: 'degrading', timeToThresholdMs: 3 * 3_600_000 }, 90, 84)).toBe('memory reaches 90% in ~3 h');
    expect(trendSentence('score', { direction: 'degrading', timeToThresholdMs: 45 * 60_000 }, 70, 80)).toBe('score falls below 70 in ~45 min');
    expect(trendSentence('cpuPercent', { direction: 'stable', timeToThresholdMs: 3_600_000 }, 90, 93)).toBe('CPU is above 90% now (93%)');
    expect(trendSentence('errorRate', { direction: 'degrading', timeToThresholdMs: 2 * 3_600_000 }, 0.5, 0.3)).toBe('error rate reaches 50% in ~2 h');
    // Not heading there, too far away, or no threshold: nothing to say.
    expect(trendSentence('memoryPercent', { direction: 'stable', timeToThresholdMs: 3_600_000 }, 90, 50)).toBeNull();
    expect(trendSentence('memoryPercent', { direction: 'degrading', timeToThresholdMs: 30 * 86_400_000 }, 90, 50)).toBeNull();
    expect(trendSentence('memoryPercent', { direction: 'degrading', timeToThresholdMs: undefined }, 90, 50)).toBeNull();
    expect(trendSentence('latencyMs', { direction: 'degrading', timeToThresholdMs: 1000 }, null, 50)).toBeNull();
  });
});

describe('escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['=HYPERLINK("http://x")', '=HYPERLINK(&quot;http://x&quot;)'],
    [`a & b ' c`, 'a &amp; b &#39; c'],
    ['nul\u0000bell\u0007', 'nul\ufffdbell\ufffd'],
    ['lone \ud800 surrogate', 'lone \ufffd surrogate'],
    ['emoji 😀 stays', 'emoji 😀 stays'],
    ['tab\tand\nnewline', 'tab\tand\nnewline'],
  ])('escapeHtml(%j)', (input, output) => {
    expect(escapeHtml(input)).toBe(output);
  });

  it('escapeMarkdown neutralises pipes, markup and line breaks', () => {
    expect(escapeMarkdown('a | b')).toBe('a \\| b');
    expect(escapeMarkdown('<b>x</b> & y')).toBe('&lt;b&gt;x&lt;/b&gt; &amp; y');
    expect(escapeMarkdown('[click](http://x) **b** `c` ~s~ _i_')).toBe('\\[click\\](http://x) \\*\\*b\\*\\* \\`c\\` \\~s\\~ \\_i\\_');
    expect(escapeMarkdown('back\\slash|')).toBe('back\\\\slash\\|');
    expect(escapeMarkdown('one\r\ntwo\nthree')).toBe('one two three');
    expect(escapeMarkdownBlock('# not a heading')).toBe('\\# not a heading');
    expect(escapeMarkdownBlock('1. not a list')).toBe('1\\. not a list');
    expect(escapeMarkdownBlock('- not a list')).toBe('\\- not a list');
  });
});

describe('ReportsConfig schema', () => {
  it('fills defaults and refuses unknown keys and bad entries', () => {
    expect(reportsConfigSchema.parse({})).toEqual({ directory: 'data/reports', schedule: [], keep: 10 });
    const ok = reportsConfigSchema.parse({
      directory: '/tmp/r',
      keep: 3,
      schedule: [{ type: 'summary', format: 'html', everyMs: 3_600_000, rangeMs: 86_400_000, cluster: 'web' }],
    });
    expect(ok.schedule).toHaveLength(1);
    expect(reportsConfigSchema.safeParse({ colour: 'red' }).success).toBe(false);
    expect(reportsConfigSchema.safeParse({ schedule: [{ type: 'everything', format: 'html', everyMs: 1000, rangeMs: 1000 }] }).success).toBe(false);
    expect(reportsConfigSchema.safeParse({ schedule: [{ type: 'summary', format: 'html', everyMs: 1000, rangeMs: 40 * 86_400_000 }] }).success).toBe(false);
    expect(reportsConfigSchema.safeParse({ schedule: [{ type: 'summary', format: 'html', everyMs: 1000, rangeMs: 1000, cluster: 'a/b' }] }).success).toBe(
      false,
    );
  });
});
