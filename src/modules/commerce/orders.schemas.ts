import { type Static, Type } from 'typebox';
import { CouponCode } from './coupons.schemas.js';
import { PageQuery } from '../../platform/http/pagination.js';
import { DateTime, MoneySchema, Uuid } from '../../platform/http/schemas.js';
import { ORDER_STATUSES, PROVIDER_NAMES } from './tables.js';

export const OrderStatusSchema = Type.Enum([...ORDER_STATUSES]);
export const ProviderSchema = Type.Enum([...PROVIDER_NAMES]);

export const CreateOrderBody = Type.Object({
  courseIds: Type.Array(Uuid, {
    minItems: 1,
    maxItems: 20,
    description: 'The courses to buy, all priced in one currency',
  }),
  couponCode: Type.Optional(CouponCode),
});
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const OrderLine = Type.Object({
  courseId: Uuid,
  title: Type.String(),
  instructorIds: Type.Array(Type.String()),
  /** The catalog price when the order was made. */
  listPrice: MoneySchema,
  /** What is paid for this course after discount. */
  amount: MoneySchema,
});

export const Order = Type.Object({
  id: Uuid,
  userId: Uuid,
  status: OrderStatusSchema,
  subtotal: MoneySchema,
  discount: MoneySchema,
  total: MoneySchema,
  couponCode: Type.Union([Type.String(), Type.Null()]),
  lines: Type.Array(OrderLine),
  expiresAt: DateTime,
  paidAt: Type.Union([DateTime, Type.Null()]),
  provider: Type.Union([ProviderSchema, Type.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type OrderView = Static<typeof Order>;

export const Transition = Type.Object({
  from: Type.Union([OrderStatusSchema, Type.Null()]),
  to: OrderStatusSchema,
  actorKind: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  at: DateTime,
});

export const PaymentSummary = Type.Object({
  id: Uuid,
  provider: ProviderSchema,
  amount: MoneySchema,
  status: Type.String(),
  flagged: Type.Boolean(),
  flagReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
});

export const OrderDetail = Type.Object({
  ...Order.properties,
  transitions: Type.Array(Transition),
  payments: Type.Array(PaymentSummary),
});
export type OrderDetailView = Static<typeof OrderDetail>;

export const CancelBody = Type.Object({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
});

export const AdminOrderQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(OrderStatusSchema),
  userId: Type.Optional(Uuid),
  createdFrom: Type.Optional(DateTime),
  createdTo: Type.Optional(DateTime),
});
export type AdminOrderQuery = Static<typeof AdminOrderQuery>;
