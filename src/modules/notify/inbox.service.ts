import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { countUnread, deleteNotification, listInbox, markAllRead, markRead } from './inbox.queries.js';
import type { NotificationView } from './inbox.schemas.js';
import { isKind } from './kinds.js';
import type { LiveItem } from './live.js';
import { notificationNotFound } from './notify.errors.js';
import { findRecipient } from './preferences.queries.js';
import type { NotifyTables } from './tables.js';
import { isLocale, type Locale, render } from './templates.js';

type Db = Kysely<NotifyTables>;

interface Row {
  id: string;
  kind: string;
  payload: unknown;
  read_at: Date | null;
  created_at: Date;
}

export function viewOf(row: Row, locale: Locale): NotificationView {
  const data = (row.payload ?? {}) as Record<string, unknown>;
  return {
    id: row.id,
    kind: row.kind,
    title: isKind(row.kind) ? render(row.kind, data, locale).summary : row.kind,
    data,
    read: row.read_at !== null,
    readAt: row.read_at === null ? null : new Date(row.read_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export const liveView = (item: LiveItem, locale: Locale): NotificationView =>
  viewOf(
    {
      id: item.id,
      kind: item.kind,
      payload: item.payload,
      read_at: null,
      created_at: new Date(item.createdAt),
    },
    locale,
  );

/** The signed-in person's inbox. Another person's notification is "not found", never "forbidden". */
export function createInboxService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  const localeOf = async (userId: string): Promise<Locale> => {
    const recipient = await findRecipient(db, userId);
    return isLocale(recipient?.locale) ? recipient.locale : 'en';
  };

  return {
    localeOf,

    async list(
      userId: string,
      query: { limit?: number | undefined; cursor?: string | undefined; unread?: boolean | undefined },
    ): Promise<Page<NotificationView>> {
      const limit = query.limit ?? 20;
      const rows = await listInbox(db, userId, {
        limit,
        cursor: query.cursor,
        unreadOnly: query.unread ?? false,
      });
      const locale = await localeOf(userId);
      return toPage(
        rows,
        limit,
        (r) => [new Date(r.created_at).toISOString(), r.id],
        (r) => viewOf(r, locale),
      );
    },

    unread: (userId: string) => countUnread(db, userId),

    async markRead(userId: string, id: string): Promise<NotificationView> {
      const row = await markRead(db, userId, id, clock());
      if (!row) throw notificationNotFound();
      return viewOf(row, await localeOf(userId));
    },

    markAllRead: (userId: string) => markAllRead(db, userId, clock()),

    async remove(userId: string, id: string): Promise<void> {
      if (!(await deleteNotification(db, userId, id))) throw notificationNotFound();
    },
  };
}

export type InboxService = ReturnType<typeof createInboxService>;
