// Regenerates .env.example from the configuration schema: `node --import tsx scripts/env-example.ts`.
import { writeFileSync } from 'node:fs';
import { describeSettings } from '../src/platform/config.js';

const lines = [
  '# Lectern configuration, read from the environment. Every variable is optional:',
  '# unset service URLs mean the embedded default (PGlite, in-memory cache, in-process bus, mail folder).',
  '',
];
for (const s of describeSettings()) {
  lines.push(`# ${s.description}`, `${s.hasDefault ? '' : '# '}${s.env}=${s.example}`, '');
}
writeFileSync(new URL('../.env.example', import.meta.url), lines.join('\n'));
