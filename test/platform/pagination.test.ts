import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/platform/http/pagination.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp((platform) => [createProbeModule(platform.database.db)]);
  const db = t.platform.database.db.withTables<{
    'probe.items': { id: string; name: string; created_at: Date };
  }>();
  // several rows share a timestamp so the id tie-breaker matters
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  const rows = Array.from({ length: 25 }, (_, i) => ({
    id: `item-${String(i).padStart(2, '0')}`,
    name: `Item ${i}`,
    created_at: new Date(base + Math.floor(i / 3) * 1000),
  }));
  await db.insertInto('probe.items').values(rows).execute();
});
afterAll(async () => {
  await t.stop();
});

async function page(limit: number, cursor?: string | null) {
  const qs = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  const res = await t.app.inject({ url: `/api/v1/probe/items?${qs.toString()}` });
  expect(res.statusCode).toBe(200);
  return res.json<{ data: { id: string }[]; nextCursor: string | null }>();
}

describe('keyset pagination', () => {
  it('walks every row exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p = await page(7, cursor);
      seen.push(...p.data.map((d) => d.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen[0]).toBe('item-24');
  });

  it('stays stable when rows are inserted between pages', async () => {
    const first = await page(5);
    const db = t.platform.database.db.withTables<{
      'probe.items': { id: string; name: string; created_at: Date };
    }>();
    // newer rows arrive while the client reads page two: with OFFSET the page would shift
    await db
      .insertInto('probe.items')
      .values([
        { id: 'late-1', name: 'late', created_at: new Date('2027-01-01T00:00:00Z') },
        { id: 'late-2', name: 'late', created_at: new Date('2027-01-02T00:00:00Z') },
      ])
      .execute();
    const second = await page(5, first.nextCursor);
    const ids = [...first.data, ...second.data].map((d) => d.id);
    expect(new Set(ids).size).toBe(10);
    expect(ids).not.toContain('late-1');
    expect(second.data[0]?.id).toBe('item-19');
  });

  it('answers a last page with nextCursor null', async () => {
    const p = await page(100);
    expect(p.nextCursor).toBeNull();
  });

  it('refuses a cursor of the wrong shape with 400', async () => {
    const res = await t.app.inject({ url: `/api/v1/probe/items?cursor=${encodeCursor(['only-one'])}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('request.bad-cursor');
    const limit = await t.app.inject({ url: '/api/v1/probe/items?limit=1000' });
    expect(limit.statusCode).toBe(400);
  });
});
