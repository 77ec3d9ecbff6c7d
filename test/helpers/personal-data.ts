import { randomUUID } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { DataExportRequestedEvent } from '../../src/modules/identity/index.js';
import { inTransaction } from '../../src/platform/db/database.js';
import { enqueue, outboxMigration } from '../../src/platform/messaging/outbox.js';
import type { LecternModule } from '../../src/platform/module.js';
import { type ExportPart, type ExportSections, exportPartKey } from '../../src/platform/personal-data.js';
import type { Kit } from './kit.js';

/**
 * For a module's test of its part of a personal-data export without the identity module: a
 * stand-in that owns only identity's outbox, so the test can publish identity's event.
 */
export function identityOutbox(): LecternModule {
  return { name: 'identity', migrations: { '0000-messaging': outboxMigration('identity') } };
}

/**
 * Ask for an export of `userId`'s data as identity would (its event through identity's outbox),
 * wait until every running subscriber has applied it, and read `module`'s part back.
 */
export async function exportPartOf(kit: Kit, userId: string, module: string): Promise<ExportPart> {
  const exportId = randomUUID();
  const db = kit.app.platform.database.db;
  await inTransaction(db, (trx) =>
    enqueue(trx, 'identity', [
      DataExportRequestedEvent.create(userId, { exportId, userId, requestedAt: new Date().toISOString() }),
    ]),
  );
  await kit.settle();
  return readExportPart(kit, exportId, module);
}

/** A stored part, parsed. */
export async function readExportPart(kit: Kit, exportId: string, module: string): Promise<ExportPart> {
  const stream = await kit.app.platform.storage.get(exportPartKey(exportId, module));
  return JSON.parse(await text(stream)) as ExportPart;
}

/** Sections as a part writes them: each streamed section read to its end, as JSON would carry it. */
export async function readSections(sections: ExportSections): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(sections)) {
    if (typeof value === 'object' && value !== null && Symbol.asyncIterator in value) {
      const items: unknown[] = [];
      for await (const item of value as AsyncIterable<unknown>) items.push(item);
      out[name] = items;
    } else {
      out[name] = value;
    }
  }
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** Every property name in a value, at any depth: a check that no secret field is in a part. */
export function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}
