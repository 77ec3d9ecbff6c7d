import { parseArgs } from 'node:util';
import { type Config, loadConfig } from './platform/config.js';
import { databaseOptions, type EmbeddedServer, startEmbeddedServer } from './platform/db/embedded-server.js';

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

const commands = ['serve', 'worker', 'migrate', 'seed'] as const;
type Command = (typeof commands)[number];
const command = positionals[0] ?? 'serve';
const modules = values.modules ? values.modules.split(',').map((s) => s.trim()) : undefined;

/**
 * Begin the embedded database server before the rest of the code loads: a first start's initdb
 * is seconds of another process, loading the code seconds of ours, and both fit side by side on
 * two cores. A configuration problem starts nothing here; the command reports it as usual.
 */
function embeddedServerEarly(): Promise<EmbeddedServer> | undefined {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch {
    return undefined;
  }
  if (config.databaseUrl) return undefined;
  const starting = startEmbeddedServer(databaseOptions(config));
  // its failure surfaces where the platform awaits it; until then it must not count as unhandled
  starting.catch(() => undefined);
  return starting;
}

function isCommand(name: string): name is Command {
  return (commands as readonly string[]).includes(name);
}

if (values.help || !isCommand(command)) {
  process.stdout.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
} else {
  const embeddedServer = embeddedServerEarly();
  const options = {
    ...(modules ? { modules } : {}),
    worker: !values['no-worker'],
    ...(embeddedServer ? { embeddedServer } : {}),
  };
  // loaded after the server started: a dynamic import, so the bundle keeps it in a chunk of its own
  const main = await import('./main.js');
  const run = { serve: main.serve, worker: main.worker, migrate: main.migrateOnly, seed: main.seed }[command];
  run(options).catch((err: unknown) => {
    process.stderr.write(
      `lectern ${command} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
