import { describe, expect, it } from 'vitest';
import { clampPercent, sampleSystem, type SystemInfoSource } from '../../src/signals/system.js';

const GiB = 1024 ** 3;

function fakeSi(load: number, mem: { active: number; total: number }, fs: Array<{ mount: string; use: number | null }>): SystemInfoSource {
  return {
    currentLoad: async () => ({ currentLoad: load }),
    mem: async () => mem,
    fsSize: async () => fs,
  };
}

describe('sampleSystem', () => {
  it('reads CPU load, active/total memory and the root filesystem', async () => {
    const s = await sampleSystem(
      fakeSi(37.5, { active: 4 * GiB, total: 16 * GiB }, [
        { mount: '/boot', use: 90 },
        { mount: '/', use: 12.9 },
      ]),
    );
    expect(s).toEqual({ cpuPercent: 37.5, memoryPercent: 25, diskPercent: 12.9 });
  });

  it('without a filesystem at / uses the fullest one', async () => {
    const s = await sampleSystem(
      fakeSi(1, { active: 1, total: 2 }, [
        { mount: '/data', use: 40 },
        { mount: '/var', use: 88 },
        { mount: '/x', use: null },
      ]),
    );
    expect(s.diskPercent).toBe(88);
  });

  it.each<[string, SystemInfoSource, { cpuPercent: number; memoryPercent: number; diskPercent: number }]>([
    [
      'values above 100 are clamped',
      fakeSi(180, { active: 3 * GiB, total: 2 * GiB }, [{ mount: '/', use: 101 }]),
      { cpuPercent: 100, memoryPercent: 100, diskPercent: 100 },
    ],
    ['negative values are clamped', fakeSi(-5, { active: -1, total: 2 }, [{ mount: '/', use: -3 }]), { cpuPercent: 0, memoryPercent: 0, diskPercent: 0 }],
    [
      'NaN becomes 0',
      fakeSi(Number.NaN, { active: Number.NaN, total: 8 }, [{ mount: '/', use: Number.NaN }]),
      { cpuPercent: 0, memoryPercent: 0, diskPercent: 0 },
    ],
    ['zero total memory, null use and no filesystems are 0', fakeSi(10, { active: 5, total: 0 }, []), { cpuPercent: 10, memoryPercent: 0, diskPercent: 0 }],
    ['a null root use is 0', fakeSi(10, { active: 0, total: 4 }, [{ mount: '/', use: null }]), { cpuPercent: 10, memoryPercent: 0, diskPercent: 0 }],
  ])('%s', async (_name, si, expected) => {
    expect(await sampleSystem(si)).toEqual(expected);
  });

  it('propagates a failing source (the agent logs it and skips the beat)', async () => {
    const si = { ...fakeSi(1, { active: 1, total: 2 }, []), mem: async () => Promise.reject(new Error('no /proc/meminfo')) };
    await expect(sampleSystem(si)).rejects.toThrow('no /proc/meminfo');
  });
});

describe('clampPercent', () => {
  it.each<[unknown, number]>([
    [50, 50],
    [0, 0],
    [100, 100],
    [100.0001, 100],
    [-0.1, 0],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, 100],
    [Number.NEGATIVE_INFINITY, 0],
    ['42', 0],
    [undefined, 0],
    [null, 0],
  ])('%s → %s', (v, expected) => {
    expect(clampPercent(v)).toBe(expected);
  });
});
