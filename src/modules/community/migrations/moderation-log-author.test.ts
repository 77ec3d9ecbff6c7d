import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateAll } from '../../../platform/db/migrations.js';
import { databaseForFile } from '../../../../test/helpers/database.js';
import { communityMigrations } from './index.js';

// an empty database with the migrations before 0005, as a deployment upgrading would have them
const file = databaseForFile([
  {
    schema: 'community',
    migrations: Object.fromEntries(Object.entries(communityMigrations).filter(([name]) => name < '0005')),
  },
]);

interface Entry {
  reason: string;
  part: string;
  author_id: string | null;
}

describe('migration 0005: the author of what the moderation log is about', () => {
  it('is filled in from the posts still there, with reply entries told apart, and indexed by author', async () => {
    const db = file.db;
    const [review, goneReview, comment, tombstone, goneComment] = Array.from({ length: 5 }, () =>
      randomUUID(),
    );
    const [reviewer, instructor, commenter, tombstoner] = Array.from({ length: 4 }, () => randomUUID());
    const courseId = randomUUID();
    const lessonId = randomUUID();
    await sql`insert into community.reviews
        (id, course_id, author_id, rating, body, verified, status, reply_body, reply_author_id,
         replied_at, reply_status, created_at, updated_at)
      values (${review}, ${courseId}, ${reviewer}, 4, 'fine', true, 'visible', 'thanks', ${instructor},
        '2026-02-01T00:00:00Z', 'visible', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`.execute(db);
    await sql`insert into community.comments
        (id, lesson_id, course_id, parent_id, author_id, body, by_instructor, status, created_at, updated_at, deleted_at)
      values
        (${comment}, ${lessonId}, ${courseId}, null, ${commenter}, 'why?', false, 'hidden',
         '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', null),
        (${tombstone}, ${lessonId}, ${courseId}, null, ${tombstoner}, '', false, 'visible',
         '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z')`.execute(db);
    await sql`insert into community.moderation_log (subject_type, subject_id, action, actor_id, reason, at)
      values
        ('review', ${review}, 'hidden', ${randomUUID()}, 'rude', '2026-01-05T00:00:00Z'),
        ('review', ${review}, 'approved', ${randomUUID()}, 'reply: an earlier reply', '2026-01-20T00:00:00Z'),
        ('review', ${review}, 'held', null, 'reply, word list: crypto', '2026-02-01T00:00:00Z'),
        ('review', ${review}, 'approved', ${randomUUID()}, 'reply: the course site', '2026-02-02T00:00:00Z'),
        ('review', ${goneReview}, 'hidden', ${randomUUID()}, 'spam', '2026-01-05T00:00:00Z'),
        ('comment', ${comment}, 'hidden', ${randomUUID()}, 'off topic', '2026-01-05T00:00:00Z'),
        ('comment', ${tombstone}, 'held', null, 'word list: crypto', '2026-01-01T00:00:00Z'),
        ('comment', ${goneComment}, 'deleted', ${randomUUID()}, 'spam', '2026-01-05T00:00:00Z')`.execute(db);

    await migrateAll(db, [{ schema: 'community', migrations: communityMigrations }]);
    const { rows } =
      await sql<Entry>`select reason, part, author_id from community.moderation_log order by id`.execute(db);
    expect(rows.map((r) => [r.reason, r.part, r.author_id])).toEqual([
      ['rude', 'item', reviewer],
      // decided before the current reply was written: perhaps another instructor's, so no one's
      ['reply: an earlier reply', 'reply', null],
      ['reply, word list: crypto', 'reply', instructor],
      ['reply: the course site', 'reply', instructor],
      // the post is gone: nothing says whose it was
      ['spam', 'item', null],
      ['off topic', 'item', commenter],
      ['word list: crypto', 'item', tombstoner],
      ['spam', 'item', null],
    ]);

    const index = await sql<{ indexdef: string }>`select indexdef from pg_indexes
      where schemaname = 'community' and indexname = 'moderation_log_author_idx'`.execute(db);
    expect(index.rows[0]?.indexdef).toContain('(author_id, id)');
    // only a review has a reply
    await expect(
      sql`insert into community.moderation_log (subject_type, subject_id, part, action, at)
        values ('comment', ${comment}, 'reply', 'hidden', now())`.execute(db),
    ).rejects.toThrow(/moderation_log_part_check/);
  });
});
