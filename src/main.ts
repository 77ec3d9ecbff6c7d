import { buildApp, createRelay, migrate, startJobs, startWorker } from './app.js';
import { composeModules } from './modules/registry.js';
import { loadAllSettings, type ModuleSettings } from './modules/settings.js';
import { sharingWarnings } from './modules/sharing-warnings.js';
import { ConfigError, type Config } from './platform/config.js';
import type { EmbeddedServer } from './platform/db/embedded-server.js';
import { createPlatform, type RunningPlatform } from './platform/platform.js';

export interface RunOptions {
  modules?: string[];
  /** Also run the outbox relay, event consumers and job handlers (default true: one process does it all). */
  worker?: boolean;
  /** The embedded database server, when the CLI began starting it before loading this code. */
  embeddedServer?: Promise<EmbeddedServer>;
}

/** The platform's config and every module's settings, or exit with one line per bad value. */
function configOrExit(): { config: Config; settings: ModuleSettings } {
  try {
    return loadAllSettings(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Stop on SIGINT/SIGTERM: finish in-flight work, then close; a second signal or the timeout forces exit. */
function onShutdown(platform: RunningPlatform, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    platform.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      platform.logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, platform.config.shutdownTimeoutMs);
    timer.unref();
    stop()
      .then(() => platform.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        platform.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

function warnAboutSharing(
  platform: RunningPlatform,
  modules: ReturnType<typeof composeModules>['modules'],
  settings: ModuleSettings,
): void {
  const running = modules.map((m) => m.name);
  for (const warning of sharingWarnings(platform.config, running, settings)) platform.logger.warn(warning);
}

async function seedModules(platform: RunningPlatform, modules: ReturnType<typeof composeModules>['modules']) {
  const lines: string[] = [];
  for (const module of modules) lines.push(...((await module.seed?.()) ?? []));
  // the lines name demo accounts; they go to the console for the person starting the app, not to the log
  if (lines.length > 0) platform.logger.info({ modules: lines.length }, 'demo data created');
  return lines;
}

export async function serve(options: RunOptions = {}): Promise<void> {
  const { config, settings } = configOrExit();
  const platform = await createPlatform(config, {}, options.embeddedServer);
  const { modules, keys } = composeModules(platform, options.modules, settings);
  warnAboutSharing(platform, modules, settings);
  const lectern = await buildApp(platform, modules, { keys, worker: options.worker ?? true });
  onShutdown(platform, () => lectern.close());
  await lectern.app.listen({ port: config.port, host: config.host });
  platform.logger.info(
    { modules: modules.map((m) => m.name), docs: `http://localhost:${config.port}/docs` },
    'Lectern is serving',
  );
  // demo data goes through the services (tens of seconds on a first start), so it is made while
  // the API already answers; each module's seed is a no-op once it has data
  if (config.seedDemo) {
    seedModules(platform, modules).then(
      (lines) => {
        for (const line of lines) process.stdout.write(`  ${line}\n`);
      },
      (err: unknown) => {
        platform.logger.error({ err }, 'demo data could not be created');
      },
    );
  }
}

export async function worker(options: RunOptions = {}): Promise<void> {
  const { config, settings } = configOrExit();
  const platform = await createPlatform(config, {}, options.embeddedServer);
  const { modules } = composeModules(platform, options.modules, settings);
  warnAboutSharing(platform, modules, settings);
  await migrate(platform, modules);
  const relay = createRelay(platform, modules);
  await startJobs(platform, modules, { worker: true });
  await startWorker(platform, modules, relay);
  onShutdown(platform, async () => {
    await relay.stop();
    await platform.jobs.stop();
  });
  platform.logger.info({ modules: modules.map((m) => m.name) }, 'Lectern worker running');
}

export async function migrateOnly(options: RunOptions = {}): Promise<void> {
  const { config, settings } = configOrExit();
  const platform = await createPlatform(config, {}, options.embeddedServer);
  const { modules } = composeModules(platform, options.modules, settings);
  const applied = await migrate(platform, modules);
  process.stdout.write(applied.length > 0 ? `applied:\n  ${applied.join('\n  ')}\n` : 'nothing to apply\n');
  // modules may hold connections of their own (identity's deny-list listens on Redis): without
  // closing them the process never exits once REDIS_URL is set
  for (const module of modules) await module.close?.();
  await platform.close();
}

export async function seed(options: RunOptions = {}): Promise<void> {
  const { config, settings } = configOrExit();
  const platform = await createPlatform(config, {}, options.embeddedServer);
  const { modules } = composeModules(platform, options.modules, settings);
  await migrate(platform, modules);
  // seeding goes through the services, which may send jobs; they run in a worker later
  await startJobs(platform, modules, { worker: false });
  const lines = await seedModules(platform, modules);
  process.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : 'demo data already present\n');
  for (const module of modules) await module.close?.();
  await platform.close();
}
