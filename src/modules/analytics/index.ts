// The analytics module's public contract: the only file other modules may import. No logic here.
export type { AnalyticsApi } from './analytics.api.js';
export { type AnalyticsErrorCode, AnalyticsErrors } from './analytics.errors.js';
export { ConsumedEvents as AnalyticsConsumedEvents } from './analytics.events.js';
export { type AnalyticsDeps, type AnalyticsModule, createAnalyticsModule } from './analytics.module.js';
export { ANALYTICS_REQUIRES } from './analytics.requires.js';
export { AnalyticsSettings } from './analytics.settings.js';
export { type Permission, PERMISSIONS, rolesFor } from './permissions.js';
