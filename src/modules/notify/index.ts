// The notify module's public contract: the only file other modules may import. No logic here.
export type { NotificationInput } from './delivery.service.js';
export { type Kind, KIND_NAMES } from './kinds.js';
export type { NotifyApi } from './notify.api.js';
export { ConsumedEvents as NotifyConsumedEvents } from './notify.events.js';
export { createNotifyModule, type NotifyDeps } from './notify.module.js';
export { NotifySettings } from './notify.settings.js';
export { type Permission, PERMISSIONS } from './permissions.js';

/** Modules whose API notify calls (identity: an address notify has no copy of). */
export const NOTIFY_REQUIRES = ['identity'] as const;
