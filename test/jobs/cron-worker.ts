// A worker process for the cron test: runs `test.tick` jobs from the queue in DATABASE_URL and
// records each run in public.ticks. Prints "ready" once it is polling; stops on SIGTERM.
import { sql } from 'kysely';
import { createDatabase } from '../../src/platform/db/database.js';
import { defineJob } from '../../src/platform/jobs/job.js';
import { createJobQueue } from '../../src/platform/jobs/job-queue.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { tickJob } from './tick-job.js';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const database = await createDatabase({ url, poolSize: 3 });
  const queue = createJobQueue({
    db: database.db,
    logger: createLogger('warn'),
    pollingIntervalSeconds: 0.5,
    // check the schedules every second instead of every 30 s, so a tick is not a long wait
    cronMonitorIntervalSeconds: 1,
  });
  const job = defineJob({
    ...tickJob,
    async handle(data) {
      await sql`insert into public.ticks (pid, label) values (${process.pid}, ${data.label})`.execute(
        database.db,
      );
    },
  });
  await queue.start({ worker: true });
  // no cron line here: the test schedules the job itself, at a moment it chooses
  await queue.register([job]);
  await queue.work([job]);
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void queue
      .stop()
      .then(() => database.close())
      .then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
