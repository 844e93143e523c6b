import { monitorEventLoopDelay } from 'node:perf_hooks';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LoopStall {
  /**
   * The longest event-loop stall seen since the monitor started, in ms. Waits a few timer ticks first, so that a
   * stall that ended just before the call (its late tick not yet recorded) is counted.
   */
  maxMs(): Promise<number>;
  stop(): void;
}

/**
 * Records how long this process's event loop stalled. On a machine loaded by other test files a starved
 * process runs every timer and callback late, and so do the children and servers it talks to; a wall-clock
 * bound widened by the stall measured over the same span fails on a real defect (a wait for a timeout, a
 * missed wake-up), not on the machine being busy. Use it as `bound + (await stall.maxMs())`.
 */
export function loopStall(resolutionMs = 10): LoopStall {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  return {
    async maxMs() {
      await sleep(3 * resolutionMs);
      // max is 0 until a sample exists; it is in ns and includes the resolution itself.
      return Math.max(0, h.max / 1e6 - resolutionMs);
    },
    stop: () => h.disable(),
  };
}
