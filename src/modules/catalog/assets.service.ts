import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Kysely, Selectable } from 'kysely';
import type { Static } from 'typebox';
import type { Logger } from 'pino';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { checkCursor } from './catalog.cursor.js';
import type { Storage, StoredObject } from '../../platform/storage/storage.js';
import {
  checkZipContainer,
  EPUB,
  InspectingStream,
  mediaMetadata,
  PPTX,
  type RangeOpener,
} from './asset-inspect.js';
import type { AssetUrlSigner } from './asset-url.js';
import type { Asset, SignedUrl as SignedUrlSchema } from './assets.schemas.js';
import {
  type Actor,
  canEdit,
  canView,
  courseNotFound,
  type EntitlementCheck,
  isPublic,
  loadEditable,
  mayOpenLesson,
} from './course.access.js';
import type { Urls } from './course.views.js';
import { deleteAsset, findAsset, insertAsset, isAssetInUse, listAssetsOfCourse } from './assets.queries.js';
import { findCourse } from './courses.queries.js';
import { parseRange } from './http-range.js';
import type { OutlineService } from './outline.service.js';
import type { AssetKind, AssetTable, CatalogTables } from './tables.js';
import { CatalogErrors, NotFound } from './catalog.errors.js';

type Db = Kysely<CatalogTables>;
type AssetRow = Selectable<AssetTable>;

export type AssetView = Static<typeof Asset>;
export type SignedUrl = Static<typeof SignedUrlSchema>;

/** An upload as the HTTP edge hands it over: the client's file name and the byte stream. */
export interface IncomingFile {
  filename: string | undefined;
  stream: Readable;
}

/** Bytes to send, with the headers that make them safe to serve from the API's origin. */
export interface Delivery {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  body?: Readable;
}

export const DEFAULT_URL_TTL_SECONDS = 300;

const toView = (row: AssetRow): AssetView => ({
  id: row.id,
  courseId: row.course_id,
  kind: row.kind,
  contentType: row.content_type,
  originalName: row.original_name,
  sizeBytes: row.size_bytes,
  sha256: row.sha256,
  durationSeconds: row.duration_seconds,
  pageCount: row.page_count,
  createdAt: row.created_at.toISOString(),
});

/**
 * The client's file name, for display and downloads only: the last path segment, without
 * control and reserved characters. Storage names are generated and never derive from it.
 */
export function displayName(filename: string | undefined, ext: string): string {
  const last = (filename ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = last
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}"<>|:*?]/gu, '')
    .replace(/^[.\s]+/, '')
    .trim();
  const chars = Array.from(cleaned);
  return chars.length === 0 ? `file.${ext}` : chars.slice(-150).join('');
}

/** RFC 6266 / 8187: an ASCII fallback and the exact UTF-8 name. */
function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

const inline = (contentType: string) => /^(video|audio|image)\//.test(contentType);

export function createAssetsService(deps: {
  db: Db;
  read: Db;
  storage: Storage;
  signer: AssetUrlSigner;
  urls: Urls;
  outline: OutlineService;
  limits: Record<AssetKind, number>;
  entitlements?: EntitlementCheck | undefined;
  logger: Logger;
}) {
  const { db, read, storage, signer, urls, outline, limits, entitlements, logger } = deps;

  const opener =
    (key: string): RangeOpener =>
    (start, end) =>
      storage.get(key, { start, end });

  const assetNotFound = NotFound.asset;

  async function signedUrl(assetId: string, ttlSeconds: number): Promise<SignedUrl> {
    const { exp, sig } = await signer.sign(assetId, ttlSeconds);
    return {
      url: urls.api(`/assets/${assetId}/content?exp=${exp}&sig=${sig}`),
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** `headOnly`: a HEAD request gets the headers and no open stream. */
  async function deliver(
    asset: AssetRow,
    request: { range: string | undefined; headOnly: boolean },
    extra: Record<string, string>,
  ): Promise<Delivery> {
    const size = asset.size_bytes;
    const headers: Record<string, string> = {
      'content-type': asset.content_type,
      'accept-ranges': 'bytes',
      'content-disposition': contentDisposition(
        inline(asset.content_type) ? 'inline' : 'attachment',
        asset.original_name,
      ),
      // an uploaded file must never run as a page of the API's origin
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      // the signature is the credential, so players on the web app's origin may embed the bytes
      'cross-origin-resource-policy': 'cross-origin',
      // assets never change after upload: the checksum is a strong validator
      etag: `"${asset.sha256}"`,
      ...extra,
    };
    const range = parseRange(request.range, size);
    if (range.kind === 'unsatisfiable') {
      return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` } };
    }
    if (range.kind === 'partial') {
      return {
        status: 206,
        headers: {
          ...headers,
          'content-range': `bytes ${range.start}-${range.end}/${size}`,
          'content-length': String(range.end - range.start + 1),
        },
        body: request.headOnly
          ? undefined
          : await storage.get(asset.storage_key, { start: range.start, end: range.end }),
      };
    }
    return {
      status: 200,
      headers: { ...headers, 'content-length': String(size) },
      body: size === 0 || request.headOnly ? undefined : await storage.get(asset.storage_key),
    };
  }

  return {
    limits,

    /** Checked before the upload is read, so a refused caller costs no transfer. */
    async assertUploadable(actor: Actor, courseId: string): Promise<void> {
      await inTransaction(db, (trx) => loadEditable(trx, courseId, actor, { editableContent: true }));
    },

    /**
     * Stream one upload to storage, checking size and type on the way; a refused file leaves
     * nothing behind. Call `assertUploadable` first: nothing here may wait before the stream
     * is attached, or an error of a cut-off body would pass unseen. The course row is not
     * locked during the transfer; the asset row is written after it, checking the course again.
     */
    async upload(actor: Actor, courseId: string, kind: AssetKind, file: IncomingFile): Promise<AssetView> {
      const id = randomUUID();
      const key = `courses/${courseId}/${id}`;
      const inspector = new InspectingStream(kind, limits[kind]);
      // which side failed first decides who is at fault: the client's body, or our checks/storage
      let inspectorFailed = false;
      let clientFailed = false;
      inspector.on('error', () => {
        inspectorFailed = true;
        file.stream.destroy();
      });
      file.stream.on('error', (err) => {
        if (!inspectorFailed) clientFailed = true;
        inspector.destroy(err);
      });
      if (file.stream.destroyed) {
        clientFailed = true;
        inspector.destroy(new Error('the upload stream closed before it was read'));
      } else {
        file.stream.pipe(inspector);
      }
      let stored: StoredObject;
      try {
        stored = await storage.put(key, inspector);
      } catch (err) {
        if (clientFailed && !(err instanceof AppError)) {
          throw AppError.validation(
            CatalogErrors.uploadIncomplete,
            'The upload ended before the file was complete.',
          );
        }
        throw err;
      }
      const detected = inspector.detected;
      try {
        if (!detected) throw new Error('an accepted upload has no detected type');
        if (detected.contentType === PPTX) await checkZipContainer(opener(key), stored.size, 'pptx');
        if (detected.contentType === EPUB) await checkZipContainer(opener(key), stored.size, 'epub');
        const meta = await mediaMetadata(opener(key), stored.size, detected);
        const row = await inTransaction(db, async (trx) => {
          await loadEditable(trx, courseId, actor, { editableContent: true });
          return insertAsset(trx, {
            id,
            course_id: courseId,
            uploaded_by: actor.userId,
            kind,
            content_type: detected.contentType,
            original_name: displayName(file.filename, detected.ext),
            storage_key: key,
            size_bytes: stored.size,
            sha256: stored.sha256,
            duration_seconds: meta.durationSeconds,
            page_count: meta.pageCount,
          });
        });
        return toView(row);
      } catch (err) {
        await storage.delete(key).catch((cause: unknown) => {
          logger.warn({ err: cause, key }, 'could not remove a refused upload');
        });
        throw err;
      }
    },

    async list(
      actor: Actor,
      courseId: string,
      page: { limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<AssetView>> {
      const course = await findCourse(db, courseId);
      if (!course || !canView(actor, course)) throw courseNotFound();
      if (!canEdit(actor, course)) {
        throw AppError.forbidden(
          CatalogErrors.notCourseOwner,
          'Only the course’s instructor or an admin sees its files.',
        );
      }
      const limit = page.limit ?? 20;
      checkCursor(page.cursor, 'date');
      const rows = await listAssetsOfCourse(db, courseId, { limit, cursor: page.cursor });
      return toPage(rows, limit, (r) => [r.created_at.toISOString(), r.id], toView);
    },

    async remove(actor: Actor, assetId: string): Promise<void> {
      const key = await inTransaction(db, async (trx) => {
        const asset = await findAsset(trx, assetId);
        if (!asset) throw assetNotFound();
        await loadEditable(trx, asset.course_id, actor, { editableContent: true }).catch((err: unknown) => {
          throw err instanceof AppError && err.code === CatalogErrors.courseNotFound ? assetNotFound() : err;
        });
        if (await isAssetInUse(trx, assetId))
          throw AppError.conflict(
            CatalogErrors.assetInUse,
            'A lesson or the course cover still uses this file.',
          );
        await deleteAsset(trx, assetId);
        return asset.storage_key;
      });
      await storage.delete(key).catch((err: unknown) => {
        logger.warn({ err, key }, 'could not delete a stored file');
      });
    },

    /** For the learning module: a URL to an asset, for a caller it has already authorised. */
    async signAssetUrl(assetId: string, ttlSeconds = DEFAULT_URL_TTL_SECONDS): Promise<SignedUrl> {
      if (!(await findAsset(read, assetId))) throw assetNotFound();
      return signedUrl(assetId, ttlSeconds);
    },

    /** A lesson's file: free previews for anyone, paid lessons for editors (and entitled learners). */
    async lessonUrl(actor: Actor | undefined, lessonId: string): Promise<SignedUrl> {
      const { lesson, course } = await outline.lessonWithCourse(actor, lessonId);
      if (!lesson.asset_id)
        throw AppError.notFound(CatalogErrors.lessonHasNoFile, 'This lesson has no file.');
      if (!(await mayOpenLesson(actor, course, lesson, entitlements))) {
        throw AppError.forbidden(CatalogErrors.lessonLocked, 'This lesson is part of the paid course.');
      }
      return signedUrl(lesson.asset_id, DEFAULT_URL_TTL_SECONDS);
    },

    /** An editor previewing any file of their course. */
    async editorUrl(actor: Actor, assetId: string): Promise<SignedUrl> {
      const asset = await findAsset(read, assetId);
      const course = asset ? await findCourse(read, asset.course_id) : undefined;
      if (!asset || !course || !canEdit(actor, course)) throw assetNotFound();
      return signedUrl(asset.id, DEFAULT_URL_TTL_SECONDS);
    },

    /** The bytes behind a signed URL. */
    async open(
      assetId: string,
      exp: number,
      sig: string,
      request: { range: string | undefined; headOnly: boolean },
    ): Promise<Delivery> {
      const check = await signer.verify(assetId, exp, sig);
      if (check === 'invalid')
        throw AppError.forbidden(CatalogErrors.assetUrlInvalid, 'This file link is not valid.');
      if (check === 'expired') {
        throw new AppError(
          'gone',
          CatalogErrors.assetUrlExpired,
          'This file link has expired; ask for a new one.',
        );
      }
      const asset = await findAsset(read, assetId);
      if (!asset) throw assetNotFound();
      const remaining = Math.max(0, exp - Math.floor(Date.now() / 1000));
      return deliver(asset, request, { 'cache-control': `private, max-age=${remaining}` });
    },

    /** A course's cover image: public with the course, to its editors before that. */
    async cover(
      actor: Actor | undefined,
      courseId: string,
      request: { range: string | undefined; headOnly: boolean },
    ): Promise<Delivery> {
      const course = await findCourse(read, courseId);
      if (!course || !canView(actor, course)) throw courseNotFound();
      const asset = course.cover_asset_id ? await findAsset(read, course.cover_asset_id) : undefined;
      if (!asset) throw AppError.notFound(CatalogErrors.noCover, 'This course has no cover image.');
      return deliver(asset, request, {
        'cache-control': isPublic(course.status) ? 'public, max-age=86400' : 'private, no-store',
      });
    },
  };
}

export type AssetsService = ReturnType<typeof createAssetsService>;
