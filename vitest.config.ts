import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // each file gets its own database; files run in parallel across forks
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
