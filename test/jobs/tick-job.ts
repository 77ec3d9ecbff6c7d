// The cron test's job, apart from its worker process: importing the worker would run it.
import { Type } from 'typebox';
import { defineJob } from '../../src/platform/jobs/job.js';

export const tickJob = defineJob({
  name: 'test.tick',
  data: Type.Object({ label: Type.String() }),
  handle() {
    // the worker process gives it its handler, once its database is open
  },
});
