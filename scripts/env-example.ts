// Regenerates .env.example from the platform's and every module's settings schema:
// `node --import tsx scripts/env-example.ts`.
import { writeFileSync } from 'node:fs';
import { renderEnvExample } from '../src/modules/settings.js';

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
