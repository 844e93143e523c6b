import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { HistoryPoint } from '../../src/operations.js';
import { HistoryRecorder } from '../../src/store/history-recorder.js';

const ALL = ['c/a:1', 'c/b:1', 'c/c:1'];
const point = (key: string, at: number): HistoryPoint =>
  ({ key, cluster: 'c', at, score: 100, status: 'HEALTHY', circuit: 'closed', health: 'HEALTHY', weight: 100 }) as HistoryPoint;

/** A recorder over three endpoints whose writes land in `writes` (keys and time of each write). */
function rig(opts: { failWrites?: boolean } = {}) {
  const writes: { at: number; keys: string[] }[] = [];
  const logged: string[] = [];
  const logger = createLogger('info', { write: (s: string) => logged.push(s) } as unknown as NodeJS.WritableStream);
  const recorder = new HistoryRecorder({
    sample: (at, keys) => [...(keys ?? ALL)].map((k) => point(k, at)),
    store: {
      appendHistory(points) {
        if (opts.failWrites) throw new Error('disk full');
        writes.push({ at: points[0]!.at, keys: points.map((p) => p.key) });
      },
    },
    logger,
    now: () => Date.now(),
    intervalMs: 1000,
  });
  return { recorder, writes, logged };
}

describe('HistoryRecorder', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records every endpoint at start and then every interval', () => {
    const { recorder, writes } = rig();
    recorder.start();
    expect(writes).toEqual([{ at: 0, keys: ALL }]);
    vi.advanceTimersByTime(2500);
    expect(writes).toEqual([
      { at: 0, keys: ALL },
      { at: 1000, keys: ALL },
      { at: 2000, keys: ALL },
    ]);
    recorder.stop();
  });

  it('writes the endpoints that changed within 100 ms together, each once', () => {
    const { recorder, writes } = rig();
    recorder.changed('c/a:1');
    vi.advanceTimersByTime(60);
    recorder.changed('c/b:1');
    recorder.changed('c/a:1');
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(40);
    expect(writes).toEqual([{ at: 100, keys: ['c/a:1', 'c/b:1'] }]);
    recorder.changed('c/c:1');
    vi.advanceTimersByTime(100);
    expect(writes).toEqual([
      { at: 100, keys: ['c/a:1', 'c/b:1'] },
      { at: 200, keys: ['c/c:1'] },
    ]);
  });

  it('stop() clears its timers, drops what is pending and ignores later changes', () => {
    const { recorder, writes } = rig();
    recorder.start();
    recorder.changed('c/a:1');
    recorder.stop();
    recorder.stop();
    recorder.changed('c/b:1');
    vi.advanceTimersByTime(5000);
    expect(writes).toEqual([{ at: 0, keys: ALL }]);
    expect(vi.getTimerCount()).toBe(0);
    recorder.start();
    expect(writes).toHaveLength(1);
  });

  it('a failed write is logged, not thrown, and the next one is tried', () => {
    const { recorder, logged } = rig({ failWrites: true });
    expect(() => recorder.recordAll()).not.toThrow();
    recorder.changed('c/a:1');
    vi.advanceTimersByTime(100);
    const errors = logged.map((s) => JSON.parse(s) as { msg: string; err?: { message: string } }).filter((l) => l.msg === 'could not record health history');
    expect(errors.map((e) => e.err?.message)).toEqual(['disk full', 'disk full']);
  });
});
