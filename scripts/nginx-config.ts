// Writes deploy/nginx/lectern.conf, the gateway for docker-compose, from the route map:
// `node --import tsx scripts/nginx-config.ts`. Each service name resolves (Docker DNS) to every
// replica of that service when nginx starts; the test in test/deploy/ fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { composeNginxConfig } from '../src/gateway/nginx.js';

writeFileSync(new URL('../deploy/nginx/lectern.conf', import.meta.url), composeNginxConfig());
