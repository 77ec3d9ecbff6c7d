import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/database.js';
import { defineJob } from '../../src/platform/jobs/job.js';
import { createJobQueue, type JobQueue } from '../../src/platform/jobs/job-queue.js';
import { capturingLogger } from '../../src/platform/messaging/test-support.js';
import { Type } from 'typebox';
import { freshDatabase } from '../helpers/database.js';

// Instances behind a load balancer start at the same moment on a database that pg-boss has not
// seen yet: each must come up, whichever of them creates the schema.
const INSTANCES = 6;
const ping = defineJob({ name: 'test.ping', data: Type.Object({}), handle() {} });

const opened: Database[] = [];
const queues: JobQueue[] = [];

afterAll(async () => {
  await Promise.all(queues.map((q) => q.stop()));
  // the first one drops the database, so it closes last
  for (const database of opened.reverse()) await database.close();
});

describe.skipIf(!process.env.DATABASE_URL)('job queues that start together', () => {
  it('all start on a fresh database and leave no connection in a failed transaction', async () => {
    const first = await freshDatabase();
    opened.push(first);
    const url = new URL(process.env.DATABASE_URL as string);
    url.pathname = `/${first.testDatabaseName}`;
    for (let i = 1; i < INSTANCES; i++)
      opened.push(await createDatabase({ url: url.toString(), poolSize: 2 }));
    const { logger } = capturingLogger('error');
    for (const database of opened) queues.push(createJobQueue({ db: database.db, logger }));

    const results = await Promise.allSettled(queues.map((q) => q.start({ worker: false })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await Promise.all(queues.map((q) => q.register([ping])));

    // every pooled connection still answers: none was handed back inside an aborted transaction
    for (const database of opened) {
      const answers = await Promise.all(
        [1, 2].map(() => sql<{ one: number }>`select 1 as one`.execute(database.db)),
      );
      expect(answers.map((a) => a.rows[0]?.one)).toEqual([1, 1]);
    }
    const { rows } = await sql<{
      n: string;
    }>`select count(*) as n from pgboss.queue where name = 'test.ping'`.execute(first.db);
    expect(Number(rows[0]?.n)).toBe(1);
  });
});
