import { type Config, ConfigError, describeSettings, loadConfig } from '../platform/config.js';
import {
  describeSettingsSchema,
  parseSettings,
  type SettingDescription,
  type SettingsOf,
} from '../platform/settings.js';
import { AnalyticsSettings } from './analytics/index.js';
import { CatalogSettings } from './catalog/index.js';
import { CommerceModuleSettings } from './commerce/index.js';
import { CommunitySettings } from './community/index.js';
import { IdentitySettings } from './identity/index.js';
import { LearningSettings } from './learning/index.js';
import { NotifySettings } from './notify/index.js';

/** Every module's settings schema, by module name. A new module adds its schema here. */
export const MODULE_SETTINGS = {
  identity: IdentitySettings,
  catalog: CatalogSettings,
  learning: LearningSettings,
  community: CommunitySettings,
  commerce: CommerceModuleSettings,
  notify: NotifySettings,
  analytics: AnalyticsSettings,
} as const;

export type ModuleSettings = {
  readonly [K in keyof typeof MODULE_SETTINGS]: SettingsOf<(typeof MODULE_SETTINGS)[K]>;
};

function parseModules(env: NodeJS.ProcessEnv): { settings: ModuleSettings; problems: string[] } {
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(MODULE_SETTINGS)) {
    const parsed = parseSettings(schema, env);
    settings[name] = parsed.values;
    problems.push(...parsed.problems);
  }
  return { settings: Object.freeze(settings) as ModuleSettings, problems };
}

/** Every module's settings from the environment; throws ConfigError listing every bad value. */
export function loadModuleSettings(env: NodeJS.ProcessEnv = process.env): ModuleSettings {
  const { settings, problems } = parseModules(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/**
 * The platform's config and every module's settings, validated together at start-up: one
 * ConfigError with one line per bad value, wherever it is declared.
 */
export function loadAllSettings(env: NodeJS.ProcessEnv = process.env): {
  config: Config;
  settings: ModuleSettings;
} {
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const modules = parseModules(env);
  problems.push(...modules.problems);
  if (!config || problems.length > 0) throw new ConfigError(problems);
  return { config, settings: modules.settings };
}

/** Every setting of the platform and the modules, as .env.example lists them. */
export function describeAllSettings(): SettingDescription[] {
  return [
    ...describeSettings(),
    ...Object.values(MODULE_SETTINGS).flatMap((schema) => describeSettingsSchema(schema)),
  ];
}

/** The text of .env.example: the platform's settings, then each module's. */
export function renderEnvExample(): string {
  const lines = [
    '# Lectern configuration, read from the environment. Every variable is optional:',
    '# unset service URLs mean the embedded default (PostgreSQL from npm or PGlite, in-memory cache, in-process bus, mail folder).',
    '',
  ];
  const section = (rows: ReturnType<typeof describeSettings>) => {
    for (const s of rows) {
      lines.push(`# ${s.description}`, `${s.hasDefault ? '' : '# '}${s.env}=${s.example}`, '');
    }
  };
  section(describeSettings());
  for (const [name, schema] of Object.entries(MODULE_SETTINGS)) {
    lines.push(`# ---- ${name} module ----`, '');
    section(describeSettingsSchema(schema));
  }
  return lines.join('\n');
}
