import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateAll } from '../../../platform/db/migrations.js';
import { databaseForFile } from '../../../../test/helpers/database.js';
import { communityMigrations } from './index.js';

// an empty database with the migrations before 0006, as a deployment upgrading would have them
const file = databaseForFile([
  {
    schema: 'community',
    migrations: Object.fromEntries(Object.entries(communityMigrations).filter(([name]) => name < '0006')),
  },
]);

describe('migration 0006: when a comment was first visible', () => {
  it('is its creation unless the word list held it when written, then its first approval, or none', async () => {
    const db = file.db;
    const [shown, heldHidden, heldApproved, editHeld, heldNow] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    const [author, moderator, courseId, lessonId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const created = '2026-01-01T00:00:00.000Z';
    const rows = [
      [shown, 'hidden'],
      [heldHidden, 'hidden'],
      [heldApproved, 'hidden'],
      [editHeld, 'hidden'],
      [heldNow, 'held'],
    ] as const;
    for (const [id, status] of rows) {
      await sql`insert into community.comments
          (id, lesson_id, course_id, parent_id, author_id, body, by_instructor, status, created_at, updated_at)
        values (${id}, ${lessonId}, ${courseId}, null, ${author}, 'text', false, ${status}, ${created}, ${created})`.execute(
        db,
      );
    }
    await sql`insert into community.moderation_log (subject_type, subject_id, action, actor_id, author_id, reason, at)
      values
        ('comment', ${shown}, 'hidden', ${moderator}, ${author}, 'rude', '2026-01-02T00:00:00Z'),
        ('comment', ${heldHidden}, 'held', null, ${author}, 'word list: crypto', ${created}),
        ('comment', ${heldHidden}, 'hidden', ${moderator}, ${author}, 'spam', '2026-01-02T00:00:00Z'),
        ('comment', ${heldApproved}, 'held', null, ${author}, 'word list: crypto', ${created}),
        ('comment', ${heldApproved}, 'approved', ${moderator}, ${author}, 'fine', '2026-01-03T00:00:00Z'),
        ('comment', ${heldApproved}, 'approved', ${moderator}, ${author}, 'fine', '2026-01-05T00:00:00Z'),
        ('comment', ${heldApproved}, 'hidden', ${moderator}, ${author}, 'rude', '2026-01-04T00:00:00Z'),
        ('comment', ${editHeld}, 'held', null, ${author}, 'word list: crypto', '2026-01-01T00:10:00Z'),
        ('comment', ${editHeld}, 'hidden', ${moderator}, ${author}, 'spam', '2026-01-02T00:00:00Z'),
        ('comment', ${heldNow}, 'held', null, ${author}, 'word list: crypto', ${created})`.execute(db);

    await migrateAll(db, [{ schema: 'community', migrations: communityMigrations }]);
    const { rows: after } = await sql<{ id: string; first_visible_at: Date | null }>`
      select id, first_visible_at from community.comments`.execute(db);
    const firstVisible = new Map(
      after.map((r) => [
        r.id,
        r.first_visible_at === null ? null : new Date(r.first_visible_at).toISOString(),
      ]),
    );
    expect(Object.fromEntries(rows.map(([id]) => [id, firstVisible.get(id)]))).toEqual({
      [shown]: created,
      [heldHidden]: null,
      [heldApproved]: '2026-01-03T00:00:00.000Z',
      // held by a later edit: it was visible when written
      [editHeld]: created,
      [heldNow]: null,
    });
  });
});
