import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateAll } from '../../../platform/db/migrations.js';
import { databaseForFile } from '../../../../test/helpers/database.js';
import { communityMigrations } from './index.js';

// an empty database with the migrations before 0003, as a deployment upgrading would have them
const file = databaseForFile([
  {
    schema: 'community',
    migrations: Object.fromEntries(Object.entries(communityMigrations).filter(([name]) => name < '0003')),
  },
]);

interface Listed {
  id: string;
  listed: string;
}

describe('migration 0003: the listed text of a review', () => {
  it('is written for the reviews already there, and rewritten by every later update', async () => {
    const db = file.db;
    const [plain, replied] = [randomUUID(), randomUUID()];
    const courseId = randomUUID();
    await sql`insert into community.reviews
        (id, course_id, author_id, rating, body, verified, status, up_votes, down_votes, wilson,
         reply_body, reply_author_id, replied_at, reply_status, created_at, updated_at)
      values
        (${plain}, ${courseId}, ${randomUUID()}, 4, ${'say "hi"\n<b>\u4f60\u597d</b>'}, true, 'visible', 0, 0, 0,
         null, null, null, null, '2026-01-02T03:04:05.678Z', '2026-01-02T03:04:05.678Z'),
        (${replied}, ${courseId}, ${randomUUID()}, 2, 'ok', false, 'visible', 3, 1, 0.25,
         'thanks', ${randomUUID()}, '2026-02-01T00:00:00Z', 'visible', '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z')`.execute(
      db,
    );

    await migrateAll(db, [{ schema: 'community', migrations: communityMigrations }]);
    const read = async () =>
      new Map(
        (
          await sql<Listed>`select id, listed || 'null}}' as listed from community.reviews`.execute(db)
        ).rows.map((r) => [r.id, JSON.parse(r.listed) as Record<string, unknown>]),
      );
    const rows = await read();
    expect(rows.get(plain)).toEqual({
      id: plain,
      courseId,
      rating: 4,
      body: 'say "hi"\n<b>\u4f60\u597d</b>',
      verified: true,
      status: 'visible',
      reply: null,
      createdAt: '2026-01-02T03:04:05.678Z',
      updatedAt: '2026-01-02T03:04:05.678Z',
      votes: { helpful: 0, unhelpful: 0, score: 0, mine: null },
    });
    expect(rows.get(replied)).toMatchObject({
      verified: false,
      reply: { body: 'thanks', status: 'visible', repliedAt: '2026-02-01T00:00:00.000Z' },
      votes: { helpful: 3, unhelpful: 1, score: 0.25, mine: null },
    });

    // a later update of any column the text shows, by any statement, leaves the text current
    await sql`update community.reviews set up_votes = 7, wilson = 0.5, reply_status = 'held' where id = ${replied}`.execute(
      db,
    );
    expect((await read()).get(replied)).toMatchObject({ reply: null, votes: { helpful: 7, score: 0.5 } });
  });
});
