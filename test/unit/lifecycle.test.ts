import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StartError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { Lifecycle, type Component } from '../../src/wiring/lifecycle.js';

/** Components that write what happens to them into `events`; `failStart`/`failStop` name the ones that throw. */
function parts(names: string[], events: string[], failStart?: string, failStop?: string, failWith: unknown = new Error('port taken')): Component[] {
  return names.map((name) => ({
    name,
    async start() {
      await Promise.resolve();
      if (name === failStart) throw failWith;
      events.push(`start ${name}`);
    },
    stop() {
      events.push(`stop ${name}`);
      if (name === failStop) throw new Error('stuck');
    },
  }));
}

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = createLogger('info', { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream);
  return { logger, lines: () => out.map((s) => JSON.parse(s) as Record<string, unknown>) };
}

describe('Lifecycle: one ordered list of components', () => {
  it('starts in list order and stops in reverse, once', async () => {
    const events: string[] = [];
    const life = new Lifecycle(parts(['store', 'engine', 'xds', 'admin'], events), captureLogger().logger);
    await life.start();
    await Promise.all([life.stop(), life.stop()]);
    await life.stop();
    expect(events).toEqual(['start store', 'start engine', 'start xds', 'start admin', 'stop admin', 'stop xds', 'stop engine', 'stop store']);
  });

  it('a failing start stops what started (in reverse) and rejects with a StartError naming the component', async () => {
    const events: string[] = [];
    const { logger, lines } = captureLogger();
    const life = new Lifecycle(parts(['store', 'engine', 'xds', 'admin'], events, 'xds'), logger);
    const err = await life.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartError);
    expect(err).toMatchObject({ component: 'xds', code: 'UNAVAILABLE', message: 'xds: port taken', details: { component: 'xds' } });
    expect((err as StartError).cause).toBeInstanceOf(Error);
    // admin never started; its stop is a no-op by contract but still runs (stops are safe on unstarted parts).
    expect(events).toEqual(['start store', 'start engine', 'stop admin', 'stop xds', 'stop engine', 'stop store']);
    expect(lines().find((l) => l.msg === 'start failed; stopping what started')).toMatchObject({ part: 'xds', level: 50 });
    // A later stop() (the caller's cleanup) does nothing more.
    await life.stop();
    expect(events.filter((e) => e.startsWith('stop'))).toHaveLength(4);
  });

  it('keeps the code of a typed cause', async () => {
    const life = new Lifecycle(
      parts(['config', 'engine'], [], 'engine', undefined, new InvalidArgumentError('health.allowTargets', 'not an address')),
      captureLogger().logger,
    );
    await expect(life.start()).rejects.toMatchObject({ component: 'engine', code: 'INVALID_ARGUMENT', message: 'engine: health.allowTargets: not an address' });
  });

  it('a failing stop is logged and the others still stop', async () => {
    const events: string[] = [];
    const { logger, lines } = captureLogger();
    const life = new Lifecycle(parts(['store', 'engine', 'xds'], events, undefined, 'engine'), logger);
    await life.start();
    await life.stop();
    expect(events.slice(3)).toEqual(['stop xds', 'stop engine', 'stop store']);
    expect(lines().find((l) => l.msg === 'stop failed')).toMatchObject({ part: 'engine' });
  });
});
