import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Storage } from './s3-storage.js';

type Command = { input: Record<string, unknown> };

/**
 * Stands in for the S3 client to check what the adapter sends: how it cuts a stream into parts,
 * aborts, maps ranges and missing keys. The real protocol is exercised by the live test below
 * when an S3-compatible server is configured.
 */
function recordingClient(options: { failPart?: number; objects?: Map<string, Buffer> } = {}) {
  const sent: Command[] = [];
  const objects = options.objects ?? new Map<string, Buffer>();
  const uploads = new Map<string, Buffer[]>();
  const notFound = () =>
    Object.assign(new Error('not found'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  const client = {
    send(command: Command) {
      sent.push(command);
      const input = command.input as {
        Key: string;
        UploadId?: string;
        PartNumber?: number;
        Body?: Buffer;
        Range?: string;
      };
      if (command instanceof CreateMultipartUploadCommand) {
        const id = randomUUID();
        uploads.set(id, []);
        return Promise.resolve({ UploadId: id });
      }
      if (command instanceof UploadPartCommand) {
        if (input.PartNumber === options.failPart) return Promise.reject(new Error('network down'));
        uploads.get(input.UploadId ?? '')?.push(input.Body ?? Buffer.alloc(0));
        return Promise.resolve({ ETag: `"etag-${input.PartNumber}"` });
      }
      if (command instanceof CompleteMultipartUploadCommand) {
        objects.set(input.Key, Buffer.concat(uploads.get(input.UploadId ?? '') ?? []));
        return Promise.resolve({});
      }
      if (command instanceof AbortMultipartUploadCommand) return Promise.resolve({});
      if (command instanceof PutObjectCommand) {
        objects.set(input.Key, input.Body ?? Buffer.alloc(0));
        return Promise.resolve({});
      }
      if (command instanceof GetObjectCommand) {
        const body = objects.get(input.Key);
        if (!body) return Promise.reject(notFound());
        const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
        return Promise.resolve({
          Body: Readable.from([m ? body.subarray(Number(m[1]), Number(m[2]) + 1) : body]),
        });
      }
      if (command instanceof HeadObjectCommand) {
        const body = objects.get(input.Key);
        return body
          ? Promise.resolve({ ContentLength: body.length })
          : Promise.reject(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
      }
      if (command instanceof DeleteObjectCommand) {
        objects.delete(input.Key);
        return Promise.resolve({});
      }
      return Promise.reject(new Error('unexpected command'));
    },
  };
  return { client: client as unknown as Pick<S3Client, 'send'>, sent, objects };
}

const chunks = (total: number, size: number) =>
  Readable.from(
    Array.from({ length: Math.ceil(total / size) }, (_, i) =>
      Buffer.alloc(Math.min(size, total - i * size), i % 251),
    ),
  );

const text = async (stream: Readable) => {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
};

describe('S3 storage', () => {
  it('puts a small object in one request', async () => {
    const { client, sent, objects } = recordingClient();
    const storage = createS3Storage({ bucket: 'b', prefix: 'lectern/', client, partSize: 1024 });
    const stored = await storage.put('courses/x/y', Readable.from([Buffer.from('hello')]), {
      contentType: 'image/png',
    });
    expect(stored).toMatchObject({ size: 5, sha256: createHash('sha256').update('hello').digest('hex') });
    expect(sent.map((c) => c.constructor.name)).toEqual(['PutObjectCommand']);
    expect(sent[0]?.input).toMatchObject({
      Bucket: 'b',
      Key: 'lectern/courses/x/y',
      ContentType: 'image/png',
    });
    expect(objects.get('lectern/courses/x/y')?.toString()).toBe('hello');
  });

  it('streams a large object as parts, holding one part at a time', async () => {
    const { client, sent, objects } = recordingClient();
    const storage = createS3Storage({ bucket: 'b', client, partSize: 1000 });
    const stored = await storage.put('big', chunks(3500, 300));
    expect(stored.size).toBe(3500);
    const parts = sent
      .filter((c) => c instanceof UploadPartCommand)
      .map((c) => (c.input.Body as Buffer).length);
    expect(parts).toEqual([1200, 1200, 1100]);
    expect(sent.at(-1)).toBeInstanceOf(CompleteMultipartUploadCommand);
    expect(objects.get('big')?.length).toBe(3500);
  });

  it('aborts the multipart upload when a part or the source fails', async () => {
    const failing = recordingClient({ failPart: 2 });
    await expect(
      createS3Storage({ bucket: 'b', client: failing.client, partSize: 1000 }).put('k', chunks(3500, 500)),
    ).rejects.toThrow('network down');
    expect(failing.sent.at(-1)).toBeInstanceOf(AbortMultipartUploadCommand);
    expect(failing.objects.has('k')).toBe(false);

    const source = recordingClient();
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(1500));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(
      createS3Storage({ bucket: 'b', client: source.client, partSize: 1000 }).put('k', broken),
    ).rejects.toThrow('client went away');
    expect(source.sent.at(-1)).toBeInstanceOf(AbortMultipartUploadCommand);
  });

  it('reads ranges, sizes, misses and deletes', async () => {
    const { client, sent } = recordingClient({ objects: new Map([['k', Buffer.from('0123456789')]]) });
    const storage = createS3Storage({ bucket: 'b', client });
    expect((await text(await storage.get('k', { start: 2, end: 4 }))).toString()).toBe('234');
    expect(sent.at(-1)?.input).toMatchObject({ Range: 'bytes=2-4' });
    expect(await storage.size('k')).toBe(10);
    expect(await storage.size('missing')).toBeUndefined();
    await expect(storage.get('missing')).rejects.toMatchObject({ code: 'storage.not-found' });
    await storage.delete('k');
    expect(await storage.size('k')).toBeUndefined();
    await expect(storage.put('../escape', Readable.from([]))).rejects.toMatchObject({
      code: 'storage.bad-key',
    });
  });
});

// A real S3-compatible server: s3rver started here on 127.0.0.1, or the store named by
// S3_TEST_ENDPOINT / S3_TEST_BUCKET / S3_TEST_ACCESS_KEY / S3_TEST_SECRET_KEY (MinIO, say).
describe('S3 storage against a real server', () => {
  let server: S3rver | undefined;
  let folder: string | undefined;
  let target: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    const { S3_TEST_ENDPOINT, S3_TEST_BUCKET, S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY } = process.env;
    if (S3_TEST_ENDPOINT && S3_TEST_BUCKET) {
      target = {
        endpoint: S3_TEST_ENDPOINT,
        bucket: S3_TEST_BUCKET,
        accessKeyId: S3_TEST_ACCESS_KEY ?? '',
        secretAccessKey: S3_TEST_SECRET_KEY ?? '',
      };
      return;
    }
    folder = await mkdtemp(path.join(tmpdir(), 'lectern-s3-'));
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: folder,
      configureBuckets: [{ name: 'lectern-test', configs: [] }],
    });
    const { port } = await server.run();
    // s3rver accepts its fixed development credentials
    target = {
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'lectern-test',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    };
  });
  afterAll(async () => {
    await server?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('round-trips a multipart object, by range too, and deletes it', async () => {
    const storage = createS3Storage({
      ...target,
      forcePathStyle: true,
      prefix: `test-${randomUUID()}/`,
      partSize: 5 * 1024 * 1024,
    });
    const size = 6 * 1024 * 1024;
    const stored = await storage.put('obj', chunks(size, 64 * 1024));
    expect(stored.size).toBe(size);
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await text(await storage.get('obj', { start: 10, end: 19 }))).length).toBe(10);
    expect((await text(await storage.get('obj'))).length).toBe(size);
    expect(await storage.size('obj')).toBe(size);
    await expect(storage.get('missing')).rejects.toMatchObject({ code: 'storage.not-found' });
    await storage.delete('obj');
    expect(await storage.size('obj')).toBeUndefined();
  });
});
