import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // each file gets its own database; files run in parallel across forks
    pool: 'forks',
    // a file spends most of its time waiting on PostgreSQL, Redis, NATS, sockets and timers, so
    // two files a core keep the CPUs busy (2 cores: 390 s → 178 s wall for the whole suite); the
    // cap keeps a big machine within PostgreSQL's default 100 connections (≤ 5 pooled per app)
    maxWorkers: Math.min(8, 2 * availableParallelism()),
    // on PostgreSQL each file's database is a copy of one migrated template (see the file)
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
