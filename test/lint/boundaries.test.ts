import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const probes: string[] = [];

async function lintProbe(relativePath: string, source: string) {
  const file = path.join(root, relativePath);
  probes.push(file);
  await writeFile(file, source);
  const eslint = new ESLint({ cwd: root, ruleFilter: ({ ruleId }) => ruleId === 'boundaries/dependencies' });
  const [result] = await eslint.lintFiles([file]);
  return (result?.messages ?? []).filter((m) => m.ruleId === 'boundaries/dependencies');
}

afterAll(async () => {
  await Promise.all(probes.map((file) => rm(file, { force: true })));
});

describe('module boundary lint', () => {
  it('refuses a module importing another module’s internals, and allows its index.ts', async () => {
    const messages = await lintProbe(
      'src/modules/identity/__boundary_probe__.ts',
      [
        "import { createCategoriesService } from '../catalog/categories.service.js';",
        "import { createCatalogModule } from '../catalog/index.js';",
        "import { AppError } from '../../platform/errors.js';",
        'export const probe = [createCategoriesService, createCatalogModule, AppError];',
        '',
      ].join('\n'),
    );
    expect(messages.map((m) => m.line)).toEqual([1]);
  });

  it('refuses the platform importing any module', async () => {
    const messages = await lintProbe(
      'src/platform/__boundary_probe__.ts',
      "import { createCatalogModule } from '../modules/catalog/index.js';\nexport const probe = createCatalogModule;\n",
    );
    expect(messages).toHaveLength(1);
  });
});
