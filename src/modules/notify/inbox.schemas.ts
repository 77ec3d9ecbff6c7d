import { type Static, Type } from 'typebox';
import { PageQuery } from '../../platform/http/pagination.js';
import { DateTime, Uuid } from '../../platform/http/schemas.js';

export const NotificationView = Type.Object({
  id: Uuid,
  kind: Type.String(),
  /** The subject line in the reader's locale. */
  title: Type.String(),
  /** The kind's data (order id, course title…), for clients that show more than the title. */
  data: Type.Record(Type.String(), Type.Unknown()),
  read: Type.Boolean(),
  readAt: Type.Union([DateTime, Type.Null()]),
  createdAt: DateTime,
});
export type NotificationView = Static<typeof NotificationView>;

export const InboxQuery = Type.Object({
  ...PageQuery.properties,
  unread: Type.Optional(Type.Boolean({ description: 'Only unread notifications' })),
});

export const NotificationParams = Type.Object({ id: Uuid });

export const UnreadCount = Type.Object({ unread: Type.Integer({ minimum: 0 }) });
export const MarkedAll = Type.Object({ marked: Type.Integer({ minimum: 0 }) });
