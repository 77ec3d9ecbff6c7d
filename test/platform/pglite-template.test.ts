import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/platform/db/database.js';
import { templatePath } from '../../src/platform/db/pglite-template.js';

// An empty PGlite database starts from a tarball of a fresh initdb instead of running initdb.
describe('PGlite initdb template', () => {
  let root: string;
  const saved = process.env.LECTERN_PGLITE_TEMPLATE_DIR;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'lectern-template-test-'));
    process.env.LECTERN_PGLITE_TEMPLATE_DIR = path.join(root, 'template');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.LECTERN_PGLITE_TEMPLATE_DIR;
    else process.env.LECTERN_PGLITE_TEMPLATE_DIR = saved;
    rmSync(root, { recursive: true, force: true });
  });

  it('is left by the first initdb, and a database made from it keeps its data across restarts', async () => {
    expect(existsSync(templatePath())).toBe(false);
    const first = await createDatabase({ pgliteDir: path.join(root, 'a') });
    await first.close();
    expect(existsSync(templatePath())).toBe(true);

    const dir = path.join(root, 'b');
    const made = await createDatabase({ pgliteDir: dir });
    await sql`create table kept (id int)`.execute(made.db);
    await sql`insert into kept values (42)`.execute(made.db);
    await made.close();
    const reopened = await createDatabase({ pgliteDir: dir });
    const { rows } = await sql<{ id: number }>`select id from kept`.execute(reopened.db);
    await reopened.close();
    expect(rows).toEqual([{ id: 42 }]);
    // one initdb and three starts of PGlite: ~10 s alone, far more on a loaded machine
  }, 120_000);

  it('is replaced when damaged, and the database still starts', async () => {
    writeFileSync(templatePath(), 'not a tarball');
    const db = await createDatabase({ pgliteDir: path.join(root, 'c') });
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db.db);
    await db.close();
    expect(rows).toEqual([{ one: 1 }]);
    expect(statSync(templatePath()).size).toBeGreaterThan(100_000);
  }, 120_000);
});
