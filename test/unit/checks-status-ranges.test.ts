import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { parseStatusRanges, statusMatches } from '../../src/checks/status-ranges.js';

describe('parseStatusRanges', () => {
  it.each([
    [['200'], [{ from: 200, to: 200 }]],
    [['200-399'], [{ from: 200, to: 399 }]],
    [
      ['204', '300-302'],
      [
        { from: 204, to: 204 },
        { from: 300, to: 302 },
      ],
    ],
    [[' 200 - 204 '], [{ from: 200, to: 204 }]],
    [['500-500'], [{ from: 500, to: 500 }]],
  ])('%j parses to %j', (specs, ranges) => {
    expect(parseStatusRanges(specs)).toEqual(ranges);
  });

  it.each([
    [[], 'expectedStatuses'],
    [['2xx'], 'expectedStatuses[0]'],
    [['200', '399-200'], 'expectedStatuses[1]'],
    [['099'], 'expectedStatuses[0]'],
    [['200-600'], 'expectedStatuses[0]'],
    [['200-'], 'expectedStatuses[0]'],
    [['20'], 'expectedStatuses[0]'],
  ])('%j is refused naming %s', (specs, field) => {
    let err: unknown;
    try {
      parseStatusRanges(specs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
    expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('statusMatches', () => {
  const ranges = parseStatusRanges(['200-299', '304']);
  it.each([
    [200, true],
    [299, true],
    [204, true],
    [304, true],
    [199, false],
    [300, false],
    [302, false],
    [503, false],
  ])('%i -> %s', (code, ok) => {
    expect(statusMatches(code, ranges)).toBe(ok);
  });
});
