// The module boundary, checked on source text: nothing is written into src/. ESLint lints the
// text as if it were the file at `filePath`, so the boundary elements see the path, and the
// import resolver finds the real files the probe imports.
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import boundariesConfig from '../../boundaries.config.js';

const root = path.resolve(import.meta.dirname, '../..');
// the project's boundary block as it is, with a parser that needs no type information
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...boundariesConfig],
});

/** Lines of `source` the boundary rule refuses when the text stands at `relativePath`. */
async function refusedLines(relativePath: string, lines: string[]): Promise<number[]> {
  const source = `${lines.join('\n')}\n`;
  const results = await eslint.lintText(source, { filePath: path.join(root, relativePath) });
  const messages = results.flatMap((r) => r.messages);
  // a parse or config error would make an empty answer look like "allowed"
  expect(messages.filter((m) => m.ruleId === null)).toEqual([]);
  return messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.line);
}

const catalogInternal = "import { createCategoriesService } from './catalog/categories.service.js';";
const catalogIndex = "import { createCatalogModule } from './catalog/index.js';";

describe('module boundary lint', () => {
  it('refuses a module importing another module’s internals, and allows its index.ts and the platform', async () => {
    const lines = await refusedLines('src/modules/identity/boundary-probe.ts', [
      "import { createCategoriesService } from '../catalog/categories.service.js';",
      "import { createCatalogModule } from '../catalog/index.js';",
      "import { AppError } from '../../platform/errors.js';",
      "import { IdentityErrors } from './identity.errors.js';",
      'export const probe = [createCategoriesService, createCatalogModule, AppError, IdentityErrors];',
    ]);
    expect(lines).toEqual([1]);
  });

  it('refuses the platform importing any module, even its index.ts', async () => {
    const lines = await refusedLines('src/platform/boundary-probe.ts', [
      "import { AppError } from './errors.js';",
      "import { createCatalogModule } from '../modules/catalog/index.js';",
      'export const probe = [AppError, createCatalogModule];',
    ]);
    expect(lines).toEqual([2]);
  });

  it('refuses module internals from the registry, and allows index.ts', async () => {
    const lines = await refusedLines('src/modules/registry.ts', [
      catalogInternal,
      catalogIndex,
      "import type { LecternModule } from '../platform/module.js';",
      'export const probe = [createCategoriesService, createCatalogModule];',
      'export type Probe = LecternModule;',
    ]);
    expect(lines).toEqual([1]);
  });

  for (const file of ['src/app.ts', 'src/main.ts', 'src/cli.ts']) {
    it(`refuses module internals from ${file}, and allows index.ts, the registry and the platform`, async () => {
      const lines = await refusedLines(file, [
        "import { createCategoriesService } from './modules/catalog/categories.service.js';",
        "import { createCatalogModule } from './modules/catalog/index.js';",
        "import { composeModules } from './modules/registry.js';",
        "import { AppError } from './platform/errors.js';",
        "import { buildIdentity } from './modules/identity/identity.module.js';",
        'export const probe = [createCategoriesService, createCatalogModule, composeModules, AppError, buildIdentity];',
      ]);
      expect(lines).toEqual([1, 5]);
    });
  }

  it('lets a module’s tests build the app, but not reach another module’s internals', async () => {
    const lines = await refusedLines('src/modules/identity/boundary-probe.test.ts', [
      "import { buildApp } from '../../app.js';",
      "import { createCategoriesService } from '../catalog/categories.service.js';",
      'export const probe = [buildApp, createCategoriesService];',
    ]);
    expect(lines).toEqual([2]);
    // the same import from the module's code is refused
    expect(
      await refusedLines('src/modules/identity/boundary-probe.ts', [
        "import { buildApp } from '../../app.js';",
        'export const probe = buildApp;',
      ]),
    ).toEqual([1]);
  });

  it('refuses the platform importing the registry or the composition root', async () => {
    const lines = await refusedLines('src/platform/boundary-probe.ts', [
      "import { composeModules } from '../modules/registry.js';",
      "import { buildApp } from '../app.js';",
      'export const probe = [composeModules, buildApp];',
    ]);
    expect(lines).toEqual([1, 2]);
  });
});
