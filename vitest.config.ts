import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs keeps one global engine per process; forks keep test files isolated.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
