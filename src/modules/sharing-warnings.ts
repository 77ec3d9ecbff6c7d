import type { Config } from '../platform/config.js';
import { describeSettingsSchema } from '../platform/settings.js';
import { MODULE_NAMES, type ModuleName } from './registry.js';
import { MODULE_SETTINGS, type ModuleSettings } from './settings.js';

/**
 * What this process must share with the other processes of its deployment and does not, as lines
 * for the start-up log. A process is taken to be one of several when it runs only some modules (a
 * service of a split deployment) or events cross processes (NATS_URL). The embedded default, one
 * process with everything, gets none.
 */
export function sharingWarnings(
  config: Pick<Config, 'natsUrl' | 's3Bucket'>,
  runningNames: readonly string[],
  settings: ModuleSettings,
): string[] {
  const running = MODULE_NAMES.filter((name: ModuleName) => runningNames.includes(name));
  const oneOfSeveral = running.length < MODULE_NAMES.length || config.natsUrl !== undefined;
  if (!oneOfSeveral) return [];
  const warnings: string[] = [];
  if (config.s3Bucket === undefined) {
    warnings.push(
      'S3_BUCKET is unset: files (uploads, the parts of personal-data copies) stay in DATA_DIR/files, ' +
        'which every instance of every service must then share',
    );
  }
  for (const name of running) {
    const values = settings[name] as Readonly<Record<string, unknown>>;
    for (const setting of describeSettingsSchema(MODULE_SETTINGS[name])) {
      if (setting.sameOnEveryInstance && values[setting.env] === undefined) {
        warnings.push(
          `${setting.env} is unset: each instance makes its own and the others refuse it; set one value on every instance`,
        );
      }
    }
  }
  return warnings;
}
