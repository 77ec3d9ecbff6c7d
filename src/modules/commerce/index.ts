// The commerce module's public contract: the only file other modules may import. No logic here.
export type { CommerceApi } from './commerce.api.js';
export { type CommerceErrorCode, CommerceErrors } from './commerce.errors.js';
export type {
  OrderClosed,
  OrderPaid,
  OrderRefunded,
  PayoutPaid,
  PayoutRejected,
} from './commerce.events.js';
export {
  CommerceEvents,
  OrderClosedEvent,
  OrderPaidEvent,
  OrderRefundedEvent,
  PayoutPaidEvent,
  PayoutRejectedEvent,
} from './commerce.events.js';
export { type CommerceDeps, createCommerceModule } from './commerce.module.js';
export { COMMERCE_REQUIRES } from './commerce.requires.js';
export { CommerceModuleSettings } from './commerce.settings.js';
export type { Entitlements } from './orders.service.js';
export { type Permission, PERMISSIONS, rolesFor } from './permissions.js';
