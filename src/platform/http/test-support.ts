import { createCache } from '../cache/cache.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { type App, createHttpServer } from './server.js';

/** The real HTTP server with every cross-cutting concern, no modules, for platform http tests. */
export async function createTestServer(env: Record<string, string> = {}): Promise<App> {
  return createHttpServer({
    config: loadConfig({ LOG_LEVEL: 'silent', ...env }),
    logger: createLogger('silent'),
    metrics: createMetrics(),
    cache: createCache({}),
    readiness: {},
  });
}
