import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateAll } from '../../../platform/db/migrations.js';
import { databaseForFile } from '../../../../test/helpers/database.js';
import { communityMigrations } from './index.js';

// an empty database with the migrations before 0007, as a deployment upgrading would have them
const file = databaseForFile([
  {
    schema: 'community',
    migrations: Object.fromEntries(Object.entries(communityMigrations).filter(([name]) => name < '0007')),
  },
]);

describe('migration 0007: when a review was first visible', () => {
  it('is its creation unless the word list held the review itself when written, then its first approval, or none', async () => {
    const db = file.db;
    const [shown, heldHidden, heldApproved, replyHeld, heldNow] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    const [moderator, instructor, courseId] = [randomUUID(), randomUUID(), randomUUID()];
    const created = '2026-01-01T00:00:00.000Z';
    const rows = [
      [shown, 'hidden'],
      [heldHidden, 'hidden'],
      [heldApproved, 'hidden'],
      [replyHeld, 'visible'],
      [heldNow, 'held'],
    ] as const;
    // one review per author and course: each its own author, who is the log entries' author too
    for (const [id, status] of rows) {
      await sql`insert into community.reviews
          (id, course_id, author_id, rating, body, verified, status, created_at, updated_at)
        values (${id}, ${courseId}, ${id}, 4, 'text', true, ${status}, ${created}, ${created})`.execute(db);
    }
    await sql`insert into community.moderation_log (subject_type, subject_id, action, actor_id, author_id, part, reason, at)
      values
        ('review', ${shown}, 'hidden', ${moderator}, ${shown}, 'item', 'rude', '2026-01-02T00:00:00Z'),
        ('review', ${heldHidden}, 'held', null, ${heldHidden}, 'item', 'word list: crypto', ${created}),
        ('review', ${heldHidden}, 'hidden', ${moderator}, ${heldHidden}, 'item', 'spam', '2026-01-02T00:00:00Z'),
        ('review', ${heldApproved}, 'held', null, ${heldApproved}, 'item', 'word list: crypto', ${created}),
        ('review', ${heldApproved}, 'approved', ${moderator}, ${heldApproved}, 'item', 'fine', '2026-01-03T00:00:00Z'),
        ('review', ${heldApproved}, 'approved', ${moderator}, ${heldApproved}, 'item', 'fine', '2026-01-05T00:00:00Z'),
        ('review', ${heldApproved}, 'hidden', ${moderator}, ${heldApproved}, 'item', 'rude', '2026-01-04T00:00:00Z'),
        ('review', ${replyHeld}, 'held', null, ${instructor}, 'reply', 'reply, word list: crypto', ${created}),
        ('review', ${heldNow}, 'held', null, ${heldNow}, 'item', 'word list: crypto', ${created})`.execute(
      db,
    );

    await migrateAll(db, [{ schema: 'community', migrations: communityMigrations }]);
    const { rows: after } = await sql<{ id: string; first_visible_at: Date | null }>`
      select id, first_visible_at from community.reviews`.execute(db);
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
      // its instructor's reply was held, not the review
      [replyHeld]: created,
      [heldNow]: null,
    });
  });
});
