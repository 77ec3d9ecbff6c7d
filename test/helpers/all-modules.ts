import { type ComposedModules, composeModules } from '../../src/modules/registry.js';
import { buildTestApp, type TestApp, type TestAppOptions } from './app.js';

/** The whole app as `lectern serve` composes it (every module of the registry), on a fresh database. */
export async function buildAllModulesApp(
  options: TestAppOptions = {},
): Promise<{ t: TestApp; composed: ComposedModules }> {
  let composed: ComposedModules | undefined;
  const t = await buildTestApp(
    (platform) => {
      composed = composeModules(platform);
      return composed.modules;
    },
    { ...options, keys: () => (composed as ComposedModules).keys },
  );
  return { t, composed: composed as ComposedModules };
}
