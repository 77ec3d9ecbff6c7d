import type { Kysely, Selectable, Transaction } from 'kysely';
import { AppError } from '../../platform/errors.js';
import { CommerceErrors, NotFound } from './commerce.errors.js';
import { applyTransition, lockOrder } from './orders.queries.js';
import type { ActorKind, CommerceTables, OrderStatus, OrderTable } from './tables.js';

export type OrderRow = Selectable<OrderTable>;

/**
 * The order's life. `pending` is the only state an order is created in; money moves it to
 * `paid`; refunds (the refunds work) move it on; `cancelled` and `expired` end an unpaid order.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['paid', 'cancelled', 'expired'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  cancelled: [],
  expired: [],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean =>
  ALLOWED_TRANSITIONS[from].includes(to);

/** Who moved the order: a learner, an admin, a provider's notification, or the system (expiry job). */
export interface TransitionActor {
  kind: ActorKind;
  /** User id, provider name, job name. */
  id: string | null;
}

export interface TransitionRequest {
  orderId: string;
  /** The states the caller expects the order in; anything else is a 409 `commerce.invalid-transition`. */
  from: readonly OrderStatus[];
  to: OrderStatus;
  actor: TransitionActor;
  reason: string;
  at: Date;
  /** Extra columns set with the status (paid_at, provider). */
  set?: { paid_at?: Date; provider?: OrderRow['provider'] };
  /** The order as the caller already locked it in this transaction (saves locking it again). */
  locked?: OrderRow;
}

export class TransitionRefused extends AppError {
  constructor(
    readonly order: OrderRow,
    to: OrderStatus,
  ) {
    super(
      'conflict',
      CommerceErrors.invalidTransition,
      `The order is ${order.status}; it cannot become ${to}.`,
      { orderStatus: order.status },
    );
    this.name = 'TransitionRefused';
  }
}

/**
 * Apply one transition inside the caller's transaction: lock the order row (so concurrent
 * transitions of one order run one after another), check the from-state, update it, record the
 * transition with its actor and reason, and return the order as it now is. Throws 404 for an
 * unknown order and `TransitionRefused` (409) when the order is in another state.
 */
export async function transitionOrder(
  trx: Transaction<CommerceTables> | Kysely<CommerceTables>,
  request: TransitionRequest,
): Promise<OrderRow> {
  const order =
    request.locked?.id === request.orderId ? request.locked : await lockOrder(trx, request.orderId);
  if (!order) throw NotFound.order();
  if (!request.from.includes(order.status) || !canTransition(order.status, request.to)) {
    throw new TransitionRefused(order, request.to);
  }
  return applyTransition(trx, {
    orderId: order.id,
    set: { status: request.to, updated_at: request.at, ...request.set },
    transition: {
      order_id: order.id,
      from_status: order.status,
      to_status: request.to,
      actor_kind: request.actor.kind,
      actor_id: request.actor.id,
      reason: request.reason,
      at: request.at,
    },
  });
}
