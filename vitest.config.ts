import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // each file gets its own database; files run in parallel across forks
    pool: 'forks',
    // on PostgreSQL each file's database is a copy of one migrated template (see the file)
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
