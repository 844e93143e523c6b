import systeminformation from 'systeminformation';

export interface SystemSample {
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
}

/** The parts of systeminformation sampleSystem uses (a fake can stand in for it in tests). */
export interface SystemInfoSource {
  currentLoad(): Promise<{ currentLoad: number }>;
  mem(): Promise<{ active: number; total: number }>;
  fsSize(): Promise<Array<{ mount: string; use: number | null }>>;
}

/** Clamped to 0..100; NaN and non-numbers count as 0. */
export function clampPercent(v: unknown): number {
  const n = typeof v === 'number' ? v : Number.NaN;
  if (Number.isNaN(n)) return 0;
  return Math.min(100, Math.max(0, n));
}

function diskUse(fs: Array<{ mount: string; use: number | null }>): number {
  const root = fs.find((f) => f.mount === '/');
  if (root) return clampPercent(root.use);
  return fs.reduce((max, f) => Math.max(max, clampPercent(f.use)), 0);
}

/**
 * CPU (current load), memory (active / total: what is really in use, not page cache) and disk
 * (the filesystem mounted at `/`, else the fullest one) of this host, each clamped to 0..100.
 */
export async function sampleSystem(si: SystemInfoSource = systeminformation): Promise<SystemSample> {
  const [load, mem, fs] = await Promise.all([si.currentLoad(), si.mem(), si.fsSize()]);
  return {
    cpuPercent: clampPercent(load?.currentLoad),
    memoryPercent: mem && mem.total > 0 ? clampPercent((mem.active / mem.total) * 100) : 0,
    diskPercent: diskUse(Array.isArray(fs) ? fs : []),
  };
}
