import { type Static, Type } from 'typebox';
import { DateTime, MoneySchema, Uuid } from '../../platform/http/schemas.js';

const Nullable = <T extends import('typebox').TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** What learners type: letters, digits, `-` and `_`; matched without regard to case. */
export const CouponCode = Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9_-]+$' });

export const CouponKindSchema = Type.Union([Type.Literal('percentage'), Type.Literal('fixed')]);
export const CouponScopeSchema = Type.Union([
  Type.Literal('all'),
  Type.Literal('courses'),
  Type.Literal('categories'),
]);

export const Coupon = Type.Object({
  id: Uuid,
  code: Type.String(),
  kind: CouponKindSchema,
  /** `percentage`: basis points off (1500 = 15 %). */
  percentBps: Nullable(Type.Integer()),
  amountOff: Nullable(MoneySchema),
  minSpend: Nullable(MoneySchema),
  scope: CouponScopeSchema,
  scopeIds: Type.Array(Uuid),
  startsAt: Nullable(DateTime),
  endsAt: Nullable(DateTime),
  totalLimit: Nullable(Type.Integer()),
  perUserLimit: Nullable(Type.Integer()),
  /** Uses not released (a cancelled or expired order gives its use back). */
  redeemed: Type.Integer(),
  active: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
});
export type Coupon = Static<typeof Coupon>;

const Limit = Type.Integer({ minimum: 1, maximum: 1_000_000_000 });
const ScopeIds = Type.Array(Uuid, { maxItems: 200, uniqueItems: true });

export const CreateCouponBody = Type.Object(
  {
    code: CouponCode,
    kind: CouponKindSchema,
    percentBps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    amountOff: Type.Optional(MoneySchema),
    minSpend: Type.Optional(MoneySchema),
    scope: Type.Optional(CouponScopeSchema),
    scopeIds: Type.Optional(ScopeIds),
    startsAt: Type.Optional(DateTime),
    endsAt: Type.Optional(DateTime),
    totalLimit: Type.Optional(Limit),
    perUserLimit: Type.Optional(Limit),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateCouponBody = Static<typeof CreateCouponBody>;

/** What may change once a coupon exists; its value and scope stay as learners saw them. */
export const UpdateCouponBody = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    startsAt: Type.Optional(Nullable(DateTime)),
    endsAt: Type.Optional(Nullable(DateTime)),
    totalLimit: Type.Optional(Nullable(Limit)),
    perUserLimit: Type.Optional(Nullable(Limit)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCouponBody = Static<typeof UpdateCouponBody>;

export const PreviewCouponBody = Type.Object(
  {
    code: CouponCode,
    courseIds: Type.Array(Uuid, { minItems: 1, maxItems: 20, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type PreviewCouponBody = Static<typeof PreviewCouponBody>;

export const PricedLine = Type.Object({
  courseId: Uuid,
  price: MoneySchema,
  discount: MoneySchema,
  amount: MoneySchema,
});

export const CouponPreview = Type.Object({
  code: Type.String(),
  lines: Type.Array(PricedLine),
  subtotal: MoneySchema,
  discount: MoneySchema,
  total: MoneySchema,
});
export type CouponPreview = Static<typeof CouponPreview>;
