import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real child processes (envoy, gRPC servers): forks isolate them best.
    pool: 'forks',
    // Test files run in parallel, but at most 2 at once (2-core machine, each e2e file spawns an Envoy).
    fileParallelism: true,
    maxWorkers: 2,
  },
});
