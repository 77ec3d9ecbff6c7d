// Type-aware lint plus the module boundary: a module may import another module only through
// its index.ts, and the platform may import no module at all.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'bench/results/', 'bin/', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Fastify and TypeBox lean on classes with static-only helpers and on empty interfaces for augmentation
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-invalid-void-type': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/include': ['src/**/*.ts'],
      // elements are folders: each module folder, and the platform folder
      'boundaries/elements': [
        { type: 'module', pattern: 'src/modules/*', capture: ['module'] },
        { type: 'platform', pattern: 'src/platform' },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: 'Import another module only through its index.ts; the platform imports no module.',
          policies: [
            // packages and Node built-ins are not elements; the rule is about our own folders
            { allow: { to: { module: { origin: ['external', 'core'] } } } },
            { from: { element: { type: 'platform' } }, allow: { to: { element: { type: 'platform' } } } },
            { from: { element: { type: 'module' } }, allow: { to: { element: { type: 'platform' } } } },
            // another module only through its public contract, index.ts
            {
              from: { element: { type: 'module' } },
              allow: { to: { element: { type: 'module', fileInternalPath: 'index.ts' } } },
            },
            // anything inside one's own module
            {
              from: { element: { type: 'module' } },
              allow: {
                to: { element: { type: 'module', captured: { module: '{{from.element.captured.module}}' } } },
              },
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // tests poke at responses whose shape they assert
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
