import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPartKey, joinExportParts, pagedSection, writeExportPart } from './personal-data.js';
import { createLocalStorage, type Storage } from './storage/storage.js';

let dir: string;
let storage: Storage;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lectern-export-'));
  storage = createLocalStorage(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rows = Array.from({ length: 7 }, (_, i) => ({ seq: i + 1, text: `row ${i + 1} "q" \u2028 ✓` }));

describe('personal-data parts', () => {
  it('pages a long section by its cursor until a short page, each row once', async () => {
    const asked: (number | undefined)[] = [];
    const items: string[] = [];
    const section = pagedSection(
      (after: { seq: number } | undefined, size) => {
        asked.push(after?.seq);
        return Promise.resolve(rows.filter((r) => r.seq > (after?.seq ?? 0)).slice(0, size));
      },
      (r) => r.text,
      3,
    );
    for await (const item of section) items.push(item);
    expect(items).toEqual(rows.map((r) => r.text));
    expect(asked).toEqual([undefined, 3, 6]);
  });

  it('writes sections as JSON, a streamed one as an array, and joins parts into one document', async () => {
    const generatedAt = new Date('2026-12-07T01:02:03.000Z');
    await writeExportPart(storage, {
      exportId: 'e1',
      module: 'alpha',
      generatedAt,
      sections: {
        profile: { name: '林', at: generatedAt },
        nothing: undefined,
        empty: pagedSection(
          () => Promise.resolve([] as { seq: number }[]),
          (r) => r,
        ),
        rows: pagedSection(
          (after: { seq: number } | undefined, size) =>
            Promise.resolve(rows.filter((r) => r.seq > (after?.seq ?? 0)).slice(0, size)),
          (r) => ({ seq: r.seq, text: r.text }),
          2,
        ),
      },
    });
    await writeExportPart(storage, { exportId: 'e1', module: 'beta', generatedAt, sections: {} });
    const alpha = JSON.parse(await text(await storage.get(exportPartKey('e1', 'alpha'))));
    expect(alpha).toEqual({
      module: 'alpha',
      generatedAt: generatedAt.toISOString(),
      data: {
        profile: { name: '林', at: generatedAt.toISOString() },
        nothing: null,
        empty: [],
        rows: rows.map((r) => ({ seq: r.seq, text: r.text })),
      },
    });

    const joined = JSON.parse(
      await text(joinExportParts(storage, 'e1', { exportId: 'e1' }, ['alpha', 'beta'])),
    );
    expect(joined).toEqual({
      exportId: 'e1',
      parts: { alpha, beta: { module: 'beta', generatedAt: generatedAt.toISOString(), data: {} } },
    });
    expect(JSON.parse(await text(joinExportParts(storage, 'e1', {}, [])))).toEqual({ parts: {} });
  });

  it('leaves no part behind when a section fails while being written', async () => {
    const failing = (async function* () {
      yield await Promise.resolve(1);
      throw new Error('database went away');
    })();
    await expect(
      writeExportPart(storage, {
        exportId: 'e2',
        module: 'alpha',
        generatedAt: new Date(),
        sections: { failing },
      }),
    ).rejects.toThrow('database went away');
    expect(await storage.size(exportPartKey('e2', 'alpha'))).toBeUndefined();
  });
});
