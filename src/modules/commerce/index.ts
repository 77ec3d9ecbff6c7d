// The commerce module's public contract: the only file other modules may import. No logic here.
export type { OrderClosed, OrderPaid, OrderRefunded } from './commerce.events.js';
export { CommerceEvents, OrderClosedEvent, OrderPaidEvent, OrderRefundedEvent } from './commerce.events.js';
