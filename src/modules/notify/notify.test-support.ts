import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { startKit, type Kit } from '../../../test/helpers/kit.js';
import type { TestAppOptions } from '../../../test/helpers/app.js';
import type { EventDefinition } from '../../platform/messaging/events.js';
import type { LecternModule } from '../../platform/module.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import type { EventEnvelope } from '../../platform/messaging/types.js';
import { createNotifyModule, type NotifyDeps } from './notify.module.js';

export interface NotifyTest extends Kit {
  notify: ReturnType<typeof createNotifyModule>;
  /**
   * Publish an event of another module on the bus (as its relay would) and wait until every notify
   * consumer of its type has applied it. Pass `id` to deliver the same event again.
   */
  emit<S extends TSchema>(
    definition: EventDefinition<string, S>,
    data: Static<S>,
    options?: { id?: string; aggregateId?: string },
  ): Promise<EventEnvelope>;
  /** Rows of one of notify's tables (tests look at the state the API does not show). */
  rows<T = Record<string, unknown>>(table: string, where?: string): Promise<T[]>;
  /** The first page of the token holder's in-app notifications, as the API answers it. */
  inbox(token: string): Promise<InboxPage>;
}

export interface InboxPage {
  data: { kind: string; title: string; data: Record<string, unknown> }[];
}

/** `others`: modules run beside notify (a stand-in publisher such as `identityOutbox()`). */
export async function startNotify(
  deps: NotifyDeps = {},
  options: TestAppOptions = {},
  others: LecternModule[] = [],
): Promise<NotifyTest> {
  let notify: ReturnType<typeof createNotifyModule> | undefined;
  const kit = await startKit((platform) => {
    notify = createNotifyModule(platform, deps);
    return [...others, notify];
  }, options);
  if (!notify) throw new Error('notify was not built');
  const module = notify;
  const db = kit.app.platform.database.db;

  const applied = async (consumer: string, id: string) => {
    const r = await sql<{ n: string }>`
      select count(*) as n from notify.inbox where consumer = ${consumer} and event_id = ${id}`.execute(db);
    return Number(r.rows[0]?.n ?? 0) > 0;
  };

  return {
    ...kit,
    notify: module,
    async emit(definition, data, opts = {}) {
      const created = definition.create(opts.aggregateId ?? randomUUID(), data);
      const event: EventEnvelope = {
        id: opts.id ?? randomUUID(),
        type: created.type,
        version: definition.version,
        occurredAt: new Date().toISOString(),
        aggregateId: created.aggregateId,
        data: created.data,
      };
      await kit.app.platform.bus.publish(event);
      const consumers = (module.subscribers ?? [])
        .filter((s) => s.types.includes(event.type))
        .map((s) => s.consumer);
      await waitFor(
        async () => (await Promise.all(consumers.map((c) => applied(c, event.id)))).every(Boolean),
        `notify to apply ${event.type}`,
      );
      return event;
    },
    inbox: (token) => kit.expectStatus<InboxPage>(200, 'GET', '/api/v1/me/notifications', { as: { token } }),
    async rows<T>(table: string, where = 'true') {
      if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table: ${table}`);
      const r = await sql<T>`select * from ${sql.table(`notify.${table}`)} where ${sql.raw(where)}`.execute(
        db,
      );
      return r.rows;
    },
  };
}
