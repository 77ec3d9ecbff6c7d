import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../errors.js';
import { assertSafeKey, type Storage, type StoredObject } from './storage.js';

export interface S3StorageOptions {
  bucket: string;
  /** Region, e.g. `us-east-1`; any value for MinIO and most S3-compatible stores. */
  region?: string;
  /** Endpoint of an S3-compatible store (MinIO, Ceph, OSS, COS); unset means AWS. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO needs. */
  forcePathStyle?: boolean;
  /** Static credentials; unset means the SDK's default chain (env, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Prepended to every key, so several deployments can share a bucket. */
  prefix?: string;
  /** Bytes per multipart part (S3's minimum is 5 MiB for every part but the last). */
  partSize?: number;
  /** A ready client (tests, or a caller with its own configuration). */
  client?: Pick<S3Client, 'send'>;
}

const MiB = 1024 * 1024;

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

const isMissing = (err: unknown): boolean => {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
};

/**
 * S3-compatible object storage. Uploads stream through a multipart upload one part at a time,
 * so memory holds at most one part whatever the file's size; the object exists only once the
 * upload completes (an aborted upload leaves nothing). The sha256 is computed on the way.
 */
// The SDK is loaded on the first storage call, not at start: it is ~15 MB of memory that a
// deployment on local storage (the embedded default) never uses.
type Sdk = typeof import('@aws-sdk/client-s3');
let sdkLoad: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => (sdkLoad ??= import('@aws-sdk/client-s3'));

export function createS3Storage(options: S3StorageOptions): Storage {
  const partSize = options.partSize ?? 8 * MiB;
  const prefix = options.prefix ?? '';
  let made: Pick<S3Client, 'send'> | undefined = options.client;
  const connect = async (): Promise<{ sdk: Sdk; client: Pick<S3Client, 'send'> }> => {
    const sdk = await loadSdk();
    made ??= new sdk.S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
    });
    return { sdk, client: made };
  };
  const Bucket = options.bucket;
  const fullKey = (key: string) => {
    assertSafeKey(key);
    return `${prefix}${key}`;
  };

  return {
    kind: 's3',

    async put(key, body, putOptions = {}): Promise<StoredObject> {
      const { sdk, client } = await connect();
      const Key = fullKey(key);
      const ContentType = putOptions.contentType ?? 'application/octet-stream';
      const hash = createHash('sha256');
      let size = 0;
      let buffered: Buffer[] = [];
      let bufferedBytes = 0;
      let uploadId: string | undefined;
      const parts: { ETag: string; PartNumber: number }[] = [];

      const flushPart = async () => {
        if (!uploadId) {
          const created = await client.send(
            new sdk.CreateMultipartUploadCommand({ Bucket, Key, ContentType }),
          );
          if (!created.UploadId) throw new Error('S3 did not return an upload id');
          uploadId = created.UploadId;
        }
        const PartNumber = parts.length + 1;
        const Body = Buffer.concat(buffered, bufferedBytes);
        buffered = [];
        bufferedBytes = 0;
        const uploaded = await client.send(
          new sdk.UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body }),
        );
        if (!uploaded.ETag) throw new Error('S3 did not return an ETag for a part');
        parts.push({ ETag: uploaded.ETag, PartNumber });
      };

      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
          buffered.push(chunk);
          bufferedBytes += chunk.length;
          if (bufferedBytes >= partSize) await flushPart();
        }
        if (!uploadId) {
          // small enough for one request: no multipart bookkeeping
          await client.send(
            new sdk.PutObjectCommand({
              Bucket,
              Key,
              ContentType,
              Body: Buffer.concat(buffered, bufferedBytes),
            }),
          );
        } else {
          if (bufferedBytes > 0) await flushPart();
          await client.send(
            new sdk.CompleteMultipartUploadCommand({
              Bucket,
              Key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts },
            }),
          );
        }
      } catch (err) {
        if (uploadId) {
          await client
            .send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }))
            .catch(() => undefined);
        }
        throw err;
      }
      return { key, size, sha256: hash.digest('hex') };
    },

    async get(key, range) {
      const { sdk, client } = await connect();
      try {
        const out = await client.send(
          new sdk.GetObjectCommand({
            Bucket,
            Key: fullKey(key),
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        );
        if (!out.Body) throw AppError.notFound('storage.not-found', 'No such stored object.');
        // in Node the SDK's body is an http.IncomingMessage, a Readable
        return out.Body as Readable;
      } catch (err) {
        if (isMissing(err)) throw AppError.notFound('storage.not-found', 'No such stored object.');
        throw err;
      }
    },

    async size(key) {
      const { sdk, client } = await connect();
      try {
        const head = await client.send(new sdk.HeadObjectCommand({ Bucket, Key: fullKey(key) }));
        return head.ContentLength;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async delete(key) {
      const { sdk, client } = await connect();
      await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: fullKey(key) }));
    },

    describe: () =>
      `S3 bucket ${Bucket}${prefix ? ` under ${prefix}` : ''} at ${options.endpoint ?? `AWS ${options.region ?? 'us-east-1'}`}`,
  };
}
