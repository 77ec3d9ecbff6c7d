// The module boundary, on its own so that test/lint/boundaries.test.ts lints probe text with
// exactly this rule, without type information (which needs the file on disk).
//
// Elements, first match wins: the platform folder, each module folder, and the rest of src/
// (the composition root: app.ts, main.ts, cli.ts, modules/registry.ts). A module may import
// another module only through its index.ts; so may the composition root; the platform imports
// no module and no composition code.
import boundaries from 'eslint-plugin-boundaries';

const policies = [
  // packages and Node built-ins are not elements; the rule is about our own folders
  { allow: { to: { module: { origin: ['external', 'core'] } } } },
  { from: { element: { type: 'platform' } }, allow: { to: { element: { type: 'platform' } } } },
  {
    from: { element: { type: ['module', 'composition'] } },
    allow: { to: { element: { type: 'platform' } } },
  },
  { from: { element: { type: 'composition' } }, allow: { to: { element: { type: 'composition' } } } },
  // another module only through its public contract, index.ts
  {
    from: { element: { type: ['module', 'composition'] } },
    allow: { to: { element: { type: 'module', fileInternalPath: 'index.ts' } } },
  },
  // anything inside one's own module
  {
    from: { element: { type: 'module' } },
    allow: {
      to: { element: { type: 'module', captured: { module: '{{from.element.captured.module}}' } } },
    },
  },
];

const message =
  'Import another module only through its index.ts; the platform imports no module and no composition code.';

export default [
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      // without the resolver `.js`-suffixed TypeScript imports are not resolved and pass silently
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/include': ['src/**/*.ts'],
      'boundaries/elements': [
        { type: 'platform', pattern: 'src/platform', partialMatch: false },
        { type: 'module', pattern: 'src/modules/*', capture: ['module'], partialMatch: false },
        { type: 'composition', pattern: 'src', partialMatch: false },
      ],
    },
    rules: { 'boundaries/dependencies': ['error', { default: 'disallow', message, policies }] },
  },
  {
    // a module's tests may build the whole app (app.ts, the registry); still no other module's internals
    files: ['src/modules/**/*.test.ts', 'src/modules/**/*.test-support.ts'],
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message,
          policies: [
            ...policies,
            { from: { element: { type: 'module' } }, allow: { to: { element: { type: 'composition' } } } },
          ],
        },
      ],
    },
  },
];
