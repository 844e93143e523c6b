import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChecker, SwappableChecker, type Checker, type CheckerOptions } from '../../src/checks/index.js';
import type { CheckConfig } from '../../src/config/schema.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';

const TCP = { tcp: {} } as unknown as CheckConfig;
// "metadata" is refused by name unless allowlisted; here it resolves to a TCP server on loopback.
let server: Server;
const METADATA = { address: 'metadata', port: 0 };
const lookup = async (): Promise<{ address: string; family: 4 }[]> => [{ address: '127.0.0.1', family: 4 }];

beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  METADATA.port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Real checkers (createChecker), with the builds and closes counted. */
function counted() {
  const built: string[][] = [];
  const closed: string[][] = [];
  const create = (opts: CheckerOptions): Checker => {
    const real = createChecker({ ...opts, lookup });
    built.push([...opts.allowTargets]);
    return {
      run: real.run,
      close: () => {
        closed.push([...opts.allowTargets]);
        return real.close();
      },
    };
  };
  const checker = new SwappableChecker({ allowTargets: [], baseDir: process.cwd(), logger: silentLogger(), create });
  return { checker, built, closed };
}

describe('SwappableChecker: the checker rebuilt on reload when health.allowTargets changes', () => {
  it('an unchanged list keeps the checker; a changed one swaps it in and closes the old one', async () => {
    const { checker, built, closed } = counted();
    const before = await checker.run(METADATA, TCP, { timeoutMs: 5000 });
    expect(before).toMatchObject({ ok: false });
    expect(before.detail).toMatch(/target metadata refused/);

    checker.setAllowTargets([]);
    expect(built).toEqual([[]]);

    checker.setAllowTargets(['metadata']);
    expect(built).toEqual([[], ['metadata']]);
    expect(closed).toEqual([[]]);
    // The new policy is the one in use: the target is no longer refused and the check connects.
    expect(await checker.run(METADATA, TCP, { timeoutMs: 5000 })).toMatchObject({ ok: true });

    await checker.close();
    expect(closed).toEqual([[], ['metadata']]);
  });

  it('a malformed list throws InvalidArgumentError and changes nothing', async () => {
    const { checker, built, closed } = counted();
    expect(() => checker.setAllowTargets(['10.0.0.0/99'])).toThrow(InvalidArgumentError);
    expect(built).toEqual([[]]);
    expect(closed).toEqual([]);
    expect((await checker.run(METADATA, TCP, { timeoutMs: 5000 })).detail).toMatch(/refused/);
    // The same list again is still a change (the failed one was never adopted).
    checker.setAllowTargets(['metadata']);
    expect(built).toEqual([[], ['metadata']]);
    await checker.close();
  });
});
