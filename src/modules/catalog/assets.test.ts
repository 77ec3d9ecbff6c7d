import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Caller, type CatalogTest, multipart, startCatalog } from './catalog.test-support.js';
import {
  sampleEpub,
  sampleMp3,
  sampleMp4,
  samplePdf,
  samplePng,
  samplePptxSkeleton,
  sampleZip,
} from './sample-files.js';

let t: CatalogTest;
let courseId: string;
let pdf: Buffer;

interface Asset {
  id: string;
  kind: string;
  contentType: string;
  originalName: string;
  sizeBytes: number;
  sha256: string;
  durationSeconds: number | null;
  pageCount: number | null;
}

const upload = (
  kind: string,
  filename: string,
  bytes: Buffer,
  as: Caller = t.instructor,
  course = courseId,
) => {
  const { body, headers } = multipart(filename, bytes);
  return t.request('POST', `/api/v1/courses/${course}/assets?kind=${kind}`, { as, body, headers });
};

const uploaded = async (kind: string, filename: string, bytes: Buffer) => {
  const response = await upload(kind, filename, bytes);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<Asset>();
};

const storedFiles = async (): Promise<string[]> => {
  const root = path.join(t.app.dataDir, 'files');
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
};

const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.app.inject({ method: 'GET', url: url.replace(/^https?:\/\/[^/]+/, ''), headers });

beforeAll(async () => {
  t = await startCatalog({ assetSizeLimits: { image: 4096, document: 256 * 1024 } });
  courseId = await t.draftCourse({ title: 'Files course' });
  pdf = await samplePdf('Handout', ['one', 'two', 'three']);
});

afterAll(async () => {
  await t.app.stop();
});

describe('upload validation', () => {
  it('stores an accepted file with its detected type, size and sha256', async () => {
    const png = samplePng(40, 20, [10, 120, 200]);
    const asset = await uploaded('image', 'cover.png', png);
    expect(asset).toMatchObject({
      kind: 'image',
      contentType: 'image/png',
      originalName: 'cover.png',
      sizeBytes: png.length,
      sha256: createHash('sha256').update(png).digest('hex'),
    });
    expect(await storedFiles()).toContain(path.join('courses', courseId, asset.id));
  });

  it('refuses an executable renamed to .mp4, and keeps nothing of it', async () => {
    const before = await storedFiles();
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00'), Buffer.alloc(70_000, 1)]);
    const response = await upload('video', 'lecture.mp4', exe);
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'catalog.asset-type-not-allowed' });
    expect(response.json().detail).toContain('application/x-msdownload');
    expect(await storedFiles()).toEqual(before);
  });

  it('refuses types that do not fit the kind, and unknown content', async () => {
    expect((await upload('video', 'notes.pdf', pdf)).statusCode).toBe(415);
    expect(
      (await upload('image', 'page.html', Buffer.from('<html><script>alert(1)</script></html>'))).statusCode,
    ).toBe(415);
    expect(
      (await upload('image', 'vector.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')))
        .statusCode,
    ).toBe(415);
    expect((await upload('document', 'empty.pdf', Buffer.alloc(0))).statusCode).toBe(415);
  });

  it('answers 413 over the kind’s size limit, and keeps nothing', async () => {
    const before = await storedFiles();
    const big = Buffer.concat([samplePng(8, 8, [0, 0, 0]), Buffer.alloc(5000, 7)]);
    const response = await upload('image', 'huge.png', big);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({
      code: 'catalog.asset-too-large',
      detail: 'This image file is larger than the limit of 4096 bytes.',
    });
    expect(await storedFiles()).toEqual(before);
  });

  it('never lets the client’s file name choose where the file goes', async () => {
    const png = samplePng(4, 4, [1, 2, 3]);
    for (const name of [
      '../../../escape.png',
      '..\\..\\escape.png',
      '/etc/passwd',
      'a/../../b.png',
      '\u0000.png',
    ]) {
      const asset = await uploaded('image', name, png);
      expect(asset.originalName).not.toMatch(/[\\/]|\.\./);
      expect(await storedFiles()).toContain(path.join('courses', courseId, asset.id));
    }
    expect(existsSync(path.join(t.app.dataDir, 'escape.png'))).toBe(false);
    expect(existsSync(path.join(t.app.dataDir, '..', 'escape.png'))).toBe(false);
    for (const file of await storedFiles()) expect(file).toMatch(/^courses\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
  });

  it('checks zip containers by structure and refuses zip bombs', async () => {
    expect(await uploaded('ebook', '书.epub', sampleEpub('书', ['内容']))).toMatchObject({
      contentType: 'application/epub+zip',
      originalName: '书.epub',
    });
    expect(await uploaded('slides', 'deck.pptx', samplePptxSkeleton())).toMatchObject({
      contentType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    });
    expect(await uploaded('slides', 'deck.pdf', pdf)).toMatchObject({
      contentType: 'application/pdf',
      pageCount: 3,
    });
    const cfb = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(1024),
    ]);
    expect(await uploaded('slides', 'old.ppt', cfb)).toMatchObject({
      contentType: 'application/vnd.ms-powerpoint',
    });

    const plainZip = sampleZip([{ name: 'readme.txt', data: 'hello' }]);
    const wrongMimetype = sampleZip([
      { name: 'mimetype', data: 'application/zip+epub' },
      { name: 'META-INF/container.xml', data: '<container/>' },
    ]);
    const bomb = sampleZip([
      { name: 'mimetype', data: 'application/epub+zip' },
      { name: 'META-INF/container.xml', data: '<container/>' },
      { name: 'OEBPS/huge.xhtml', data: 'x'.repeat(1000), method: 8, declaredSize: 3_000_000_000 },
    ]);
    for (const [kind, name, bytes] of [
      ['ebook', 'plain.epub', plainZip],
      ['slides', 'plain.pptx', plainZip],
      ['ebook', 'wrong.epub', wrongMimetype],
      ['ebook', 'bomb.epub', bomb],
      ['ebook', 'deck.epub', samplePptxSkeleton()],
    ] as const) {
      const response = await upload(kind, name, bytes);
      expect(response.statusCode, name).toBe(415);
      expect(response.json().code).toBe('catalog.asset-type-not-allowed');
    }
    expect((await upload('ebook', 'bomb.epub', bomb)).json().detail).toContain('expands');
  });

  it('refuses e-books and decks whose entries expand far beyond the upload (compression ratio)', async () => {
    const epubParts = [
      { name: 'mimetype', data: 'application/epub+zip' },
      { name: 'META-INF/container.xml', data: '<container/>' },
    ];
    // one 50 MiB chapter of zeros deflates to about 50 KiB: 1000:1, well under the declared-size cap
    const zeros = Buffer.alloc(50 * 1024 * 1024);
    const oneEntry = sampleZip([...epubParts, { name: 'OEBPS/c1.xhtml', data: zeros, method: 8 }]);
    // many entries each under the per-entry floor, together 200 MiB from a small file
    const manyEntries = sampleZip([
      ...epubParts,
      ...Array.from({ length: 200 }, (_, i) => ({
        name: `OEBPS/c${i}.xhtml`,
        data: zeros.subarray(0, 1024 * 1024 - 1),
        method: 8 as const,
      })),
    ]);
    const pptxBomb = sampleZip([
      { name: '[Content_Types].xml', data: '<Types/>' },
      { name: 'ppt/presentation.xml', data: zeros, method: 8 },
    ]);
    for (const [kind, name, bytes] of [
      ['ebook', 'ratio.epub', oneEntry],
      ['ebook', 'many.epub', manyEntries],
      ['slides', 'ratio.pptx', pptxBomb],
    ] as const) {
      const before = await storedFiles();
      const response = await upload(kind, name, bytes);
      expect(response.statusCode, name).toBe(415);
      expect(response.json().code).toBe('catalog.asset-type-not-allowed');
      expect(await storedFiles()).toEqual(before);
    }
    // an honest book with well-compressed text still passes
    const honest = sampleZip([
      ...epubParts,
      { name: 'OEBPS/c1.xhtml', data: '<p>Lectern 知识付费 chapter text.</p>\n'.repeat(20_000), method: 8 },
    ]);
    expect((await upload('ebook', 'honest.epub', honest)).statusCode).toBe(201);
  });

  it('reads durations and page counts', async () => {
    expect((await uploaded('video', 'a.mp4', sampleMp4(125))).durationSeconds).toBe(125);
    const moovLast = sampleMp4(3600, { moovAtEnd: true, padding: 100_000 });
    expect(await uploaded('video', 'b.mp4', moovLast)).toMatchObject({
      contentType: 'video/mp4',
      durationSeconds: 3600,
    });
    expect(await uploaded('audio', 'c.mp3', sampleMp3(230))).toMatchObject({
      contentType: 'audio/mpeg',
      durationSeconds: 6,
    });
    expect(await uploaded('document', 'd.pdf', pdf)).toMatchObject({ pageCount: 3, durationSeconds: null });
  });

  it('asks for a file part and for multipart, and for the course’s owner', async () => {
    const noFile = await t.request('POST', `/api/v1/courses/${courseId}/assets?kind=image`, {
      as: t.instructor,
      body: Buffer.from('--b--\r\n'),
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().code).toBe('catalog.file-required');
    const png = samplePng(4, 4, [1, 2, 3]);
    const part = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n';
    for (const [body, headers, code] of [
      [Buffer.from('x'), { 'content-type': 'multipart/form-data' }, 'catalog.bad-multipart'],
      [
        Buffer.concat([Buffer.from(part), png]),
        { 'content-type': 'multipart/form-data; boundary=b' },
        'catalog.upload-incomplete',
      ],
    ] as const) {
      const broken = await t.request('POST', `/api/v1/courses/${courseId}/assets?kind=image`, {
        as: t.instructor,
        body,
        headers,
      });
      expect(broken.statusCode, code).toBe(400);
      expect(broken.json().code).toBe(code);
    }
    const json = await t.request('POST', `/api/v1/courses/${courseId}/assets?kind=image`, {
      as: t.instructor,
      body: {},
    });
    expect(json.statusCode).toBe(415);
    const badKind = await t.request('POST', `/api/v1/courses/${courseId}/assets?kind=exe`, {
      as: t.instructor,
      body: {},
    });
    expect(badKind.statusCode).toBe(400);
    expect((await upload('image', 'x.png', png, t.learner)).statusCode).toBe(403);
    expect((await upload('image', 'x.png', png, t.otherInstructor)).statusCode).toBe(404);
    expect((await upload('image', 'x.png', png, t.instructor, randomUUID())).statusCode).toBe(404);
  });
});

describe('refused uploads over a real keep-alive connection', () => {
  let base: URL;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    await t.app.app.listen({ host: '127.0.0.1', port: 0 });
    base = new URL(`http://127.0.0.1:${(t.app.app.server.address() as AddressInfo).port}`);
  });

  afterAll(() => {
    agent.destroy();
  });

  /**
   * Streams `size` bytes of `filler` after `head` as one file part, like a browser sending a large
   * file, and resolves with the answer. Before the fix a refused upload left the request unread and
   * this never resolved (the test timed out), because the socket waited for the keep-alive timeout.
   */
  const streamUpload = (kind: string, as: Caller, head: Buffer, size: number) =>
    new Promise<{ status: number; code: string }>((resolve, reject) => {
      const boundary = `----lectern${randomUUID()}`;
      const partHead = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const req = http.request(new URL(`/api/v1/courses/${courseId}/assets?kind=${kind}`, base), {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${as.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(partHead.length + head.length + size + tail.length),
        },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code: string };
          resolve({ status: res.statusCode ?? 0, code: body.code });
        });
      });
      // the server may close the connection before the whole body is sent; the answer is what counts
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const n = Math.min(chunk.length, size - sent);
          sent += n;
          if (!req.write(chunk.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end(tail);
      };
      req.write(Buffer.concat([partHead, head]));
      pump();
    });

  const healthy = () =>
    new Promise<number>((resolve, reject) => {
      http
        .get(
          new URL(`/api/v1/courses/${courseId}/assets`, base),
          {
            agent,
            headers: { authorization: `Bearer ${t.instructor.token}` },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              resolve(res.statusCode ?? 0);
            });
          },
        )
        .on('error', reject);
    });

  it('answers a too-large file at once (413) and the client can go on', async () => {
    const answer = await streamUpload('image', t.instructor, samplePng(8, 8, [0, 0, 0]), 32 * 1024 * 1024);
    expect(answer).toEqual({ status: 413, code: 'catalog.asset-too-large' });
    expect(await healthy()).toBe(200);
  });

  it('answers a file of the wrong type at once (415) and the client can go on', async () => {
    const answer = await streamUpload(
      'document',
      t.instructor,
      Buffer.from('plain text, not a PDF'),
      32 * 1024 * 1024,
    );
    expect(answer).toEqual({ status: 415, code: 'catalog.asset-type-not-allowed' });
    expect(await healthy()).toBe(200);
  });

  it('answers a caller who may not upload before reading the body (404 for a draft not theirs)', async () => {
    const answer = await streamUpload(
      'image',
      t.otherInstructor,
      samplePng(8, 8, [0, 0, 0]),
      32 * 1024 * 1024,
    );
    expect(answer).toEqual({ status: 404, code: 'catalog.course-not-found' });
    expect(await healthy()).toBe(200);
  });

  it('answers a fetch() upload that is refused', async () => {
    const { body, headers } = multipart(
      'huge.png',
      Buffer.concat([samplePng(8, 8, [0, 0, 0]), Buffer.alloc(8 * 1024 * 1024, 7)]),
    );
    const response = await fetch(new URL(`/api/v1/courses/${courseId}/assets?kind=image`, base), {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${t.instructor.token}` },
      body,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe('catalog.asset-too-large');
  });
});

describe('delivery through signed URLs', () => {
  let course: string;
  let video: Asset;
  let handout: Asset;
  let freeLesson: string;
  let paidLesson: string;
  const mp4 = sampleMp4(90, { padding: 2000 });

  beforeAll(async () => {
    course = await t.draftCourse({ title: 'Delivery course' });
    const up = async (kind: string, name: string, bytes: Buffer) =>
      (await upload(kind, name, bytes, t.instructor, course)).json<Asset>();
    video = await up('video', '第一课.mp4', mp4);
    handout = await up('document', '讲义 v1.pdf', pdf);
    const chapter = (
      await t.request('POST', `/api/v1/courses/${course}/chapters`, {
        as: t.instructor,
        body: { title: 'Ch' },
      })
    ).json<{ id: string }>();
    const lesson = async (body: object) =>
      (await t.request('POST', `/api/v1/chapters/${chapter.id}/lessons`, { as: t.instructor, body })).json<{
        id: string;
        durationSeconds: number | null;
      }>();
    const free = await lesson({ title: 'Intro', kind: 'video', assetId: video.id, freePreview: true });
    expect(free.durationSeconds).toBe(90);
    freeLesson = free.id;
    paidLesson = (await lesson({ title: 'Handout', kind: 'document', assetId: handout.id })).id;
    const mismatch = await t.request('POST', `/api/v1/chapters/${chapter.id}/lessons`, {
      as: t.instructor,
      body: { title: 'Wrong', kind: 'ebook', assetId: video.id },
    });
    expect(mismatch.json().code).toBe('catalog.asset-kind-mismatch');
    await t.request('POST', `/api/v1/courses/${course}/submit`, { as: t.instructor });
    await t.request('POST', `/api/v1/courses/${course}/approve`, { as: t.admin });
  });

  const urlFor = async (lessonId: string, as?: Caller) => {
    const response = await t.request('GET', `/api/v1/lessons/${lessonId}/asset-url`, { as });
    return {
      status: response.statusCode,
      body: response.json<{ url: string; expiresAt: string; code?: string }>(),
    };
  };

  it('gives anyone a URL for a free preview, and paid lessons only to the instructor and admins', async () => {
    expect((await urlFor(freeLesson)).status).toBe(200);
    for (const who of [undefined, t.learner, t.otherInstructor]) {
      const denied = await urlFor(paidLesson, who);
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe('catalog.lesson-locked');
    }
    expect((await urlFor(paidLesson, t.instructor)).status).toBe(200);
    expect((await urlFor(paidLesson, t.admin)).status).toBe(200);
    const lesson = await t.api.getLesson(paidLesson);
    expect(lesson).toMatchObject({
      courseId: course,
      kind: 'document',
      freePreview: false,
      assetId: handout.id,
    });
  });

  it('serves the bytes with safe headers, whole or by Range', async () => {
    const { body } = await urlFor(freeLesson);
    const full = await get(body.url);
    expect(full.statusCode).toBe(200);
    expect(full.rawPayload.equals(mp4)).toBe(true);
    expect(full.headers).toMatchObject({
      'content-type': 'video/mp4',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'content-length': String(mp4.length),
    });
    expect(full.headers['content-disposition']).toMatch(
      /^inline; .*filename\*=UTF-8''%E7%AC%AC%E4%B8%80%E8%AF%BE\.mp4/,
    );

    const first = await get(body.url, { range: 'bytes=0-9' });
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-9/${mp4.length}`);
    expect(first.rawPayload.equals(mp4.subarray(0, 10))).toBe(true);

    const suffix = await get(body.url, { range: 'bytes=-5' });
    expect(suffix.statusCode).toBe(206);
    expect(suffix.rawPayload.equals(mp4.subarray(-5))).toBe(true);

    const open = await get(body.url, { range: `bytes=${mp4.length - 3}-` });
    expect(open.headers['content-range']).toBe(`bytes ${mp4.length - 3}-${mp4.length - 1}/${mp4.length}`);

    const outside = await get(body.url, { range: `bytes=${mp4.length}-` });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${mp4.length}`);
    expect(outside.json().code).toBe('catalog.range-not-satisfiable');

    expect((await get(body.url, { range: 'bytes=0-1,5-6' })).statusCode).toBe(200);
    const head = await t.app.app.inject({ method: 'HEAD', url: body.url.replace(/^https?:\/\/[^/]+/, '') });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(mp4.length));
    expect(head.rawPayload.length).toBe(0);
    expect((await get(body.url, { range: 'pages=1' })).statusCode).toBe(200);

    const document = await get((await urlFor(paidLesson, t.instructor)).body.url);
    expect(document.headers['content-type']).toBe('application/pdf');
    expect(document.headers['content-disposition']).toBe(
      `attachment; filename="__ v1.pdf"; filename*=UTF-8''%E8%AE%B2%E4%B9%89%20v1.pdf`,
    );
  });

  it('refuses tampered URLs', async () => {
    const { body } = await urlFor(freeLesson);
    const url = new URL(body.url, 'http://x');
    const exp = Number(url.searchParams.get('exp'));
    const sig = url.searchParams.get('sig') ?? '';
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    const variants = [
      `/api/v1/assets/${video.id}/content?exp=${exp}&sig=${flipped}`,
      `/api/v1/assets/${video.id}/content?exp=${exp + 3600}&sig=${sig}`,
      `/api/v1/assets/${handout.id}/content?exp=${exp}&sig=${sig}`,
    ];
    for (const variant of variants) {
      const response = await get(variant);
      expect(response.statusCode, variant).toBe(403);
      expect(response.json().code).toBe('catalog.asset-url-invalid');
    }
    expect((await get(`/api/v1/assets/${video.id}/content?exp=${exp}`)).statusCode).toBe(400);
    expect((await get(`/api/v1/assets/${video.id}/content?exp=${exp}&sig=short`)).statusCode).toBe(400);
  });

  it('expires', async () => {
    const { url, expiresAt } = await t.api.signAssetUrl(video.id, 60);
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect((await get(url)).statusCode).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      const expired = await get(url);
      expect(expired.statusCode).toBe(410);
      expect(expired.json().code).toBe('catalog.asset-url-expired');
    } finally {
      vi.useRealTimers();
    }
    await expect(t.api.signAssetUrl(randomUUID())).rejects.toMatchObject({ code: 'catalog.asset-not-found' });
    expect(existsSync(path.join(t.app.dataDir, 'catalog', 'asset-url.secret'))).toBe(true);
  });

  it('serves the cover publicly, and refuses a non-image cover', async () => {
    const cover = (
      await upload('image', 'cover.png', samplePng(16, 9, [200, 0, 0]), t.instructor, course)
    ).json<Asset>();
    const notImage = await t.request('PATCH', `/api/v1/courses/${course}`, {
      as: t.instructor,
      body: { coverAssetId: handout.id },
    });
    expect(notImage.json().code).toBe('catalog.invalid-cover');
    const set = await t.request('PATCH', `/api/v1/courses/${course}`, {
      as: t.instructor,
      body: { coverAssetId: cover.id },
    });
    const coverUrl = set.json<{ coverUrl: string }>().coverUrl;
    expect(coverUrl).toContain(`/api/v1/courses/${course}/cover?v=`);
    const image = await get(coverUrl);
    expect(image.statusCode).toBe(200);
    expect(image.headers).toMatchObject({ 'content-type': 'image/png', 'x-content-type-options': 'nosniff' });
  });

  it('deletes only unused files, from storage too', async () => {
    const inUse = await t.request('DELETE', `/api/v1/assets/${video.id}`, { as: t.instructor });
    expect(inUse.json().code).toBe('catalog.asset-in-use');
    const spare = (
      await upload('image', 'spare.png', samplePng(2, 2, [9, 9, 9]), t.instructor, course)
    ).json<Asset>();
    expect(
      (await t.request('DELETE', `/api/v1/assets/${spare.id}`, { as: t.otherInstructor })).statusCode,
    ).toBe(403);
    expect((await t.request('DELETE', `/api/v1/assets/${spare.id}`, { as: t.instructor })).statusCode).toBe(
      204,
    );
    expect(await storedFiles()).not.toContain(path.join('courses', course, spare.id));
    const listed = (await t.request('GET', `/api/v1/courses/${course}/assets`, { as: t.instructor })).json<{
      data: { id: string }[];
    }>();
    expect(listed.data.map((a) => a.id)).not.toContain(spare.id);
    expect(listed.data.map((a) => a.id)).toContain(video.id);
  });
});
