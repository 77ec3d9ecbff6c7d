import { parseArgs } from 'node:util';
import { migrateOnly, seed, serve, worker } from './main.js';

const usage = `Usage: lectern <command> [options]

Commands:
  serve      HTTP API, plus (unless --no-worker) the outbox relay, event consumers and
             timed jobs (delayed jobs and cron schedules)
  worker     outbox relay, event consumers and timed jobs only
  migrate    apply pending database migrations and exit
  seed       create demo data when the database has none, and exit

Options:
  --modules a,b   run only these modules (default: all)
  --no-worker     serve only HTTP: no relay, no consumers, and jobs are only sent
                  (queued in the database), never run nor scheduled here; run
                  "lectern worker" elsewhere to run them
  -h, --help      this text

Configuration comes from the environment; see .env.example.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    modules: { type: 'string' },
    'no-worker': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const command = positionals[0] ?? 'serve';
const modules = values.modules ? values.modules.split(',').map((s) => s.trim()) : undefined;
const options = { ...(modules ? { modules } : {}), worker: !values['no-worker'] };

const commands: Record<string, () => Promise<void>> = {
  serve: () => serve(options),
  worker: () => worker(options),
  migrate: () => migrateOnly(options),
  seed: () => seed(options),
};

const run = commands[command];
if (values.help || !run) {
  process.stdout.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
} else {
  run().catch((err: unknown) => {
    process.stderr.write(
      `lectern ${command} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
