import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import yauzl from 'yauzl';
import { AppError } from '../../platform/errors.js';
import type { AssetKind } from './tables.js';
import { CatalogErrors } from './catalog.errors.js';

export const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
export const PPT = 'application/vnd.ms-powerpoint';
export const EPUB = 'application/epub+zip';
export const PDF = 'application/pdf';

/**
 * What each kind accepts, by the type detected from the bytes (file-type's extension) to the
 * Content-Type it is stored and served with. Nothing a browser would run (HTML, SVG) is here.
 */
export const ACCEPTED: Record<AssetKind, Record<string, string>> = {
  video: { mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm' },
  audio: {
    mp3: 'audio/mpeg',
    m4a: 'audio/mp4',
    aac: 'audio/aac',
    ogg: 'audio/ogg',
    opus: 'audio/ogg',
    oga: 'audio/ogg',
    wav: 'audio/wav',
    flac: 'audio/flac',
    webm: 'audio/webm',
  },
  document: { pdf: PDF },
  // a zip is accepted only after its structure proves it a PPTX / EPUB (checkZipContainer)
  slides: { pdf: PDF, pptx: PPTX, zip: PPTX, cfb: PPT },
  ebook: { pdf: PDF, epub: EPUB, zip: EPUB },
  image: { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' },
};

const MiB = 1024 * 1024;
export const DEFAULT_SIZE_LIMITS: Record<AssetKind, number> = {
  video: 2048 * MiB,
  audio: 300 * MiB,
  document: 100 * MiB,
  slides: 200 * MiB,
  ebook: 100 * MiB,
  image: 10 * MiB,
};

/** Bytes looked at to recognise a type: enough for every accepted format's signature. */
const HEAD_BYTES = 64 * 1024;

export const tooLarge = (kind: AssetKind, limit: number) =>
  new AppError(
    'too_large',
    CatalogErrors.assetTooLarge,
    `This ${kind} file is larger than the limit of ${limit} bytes.`,
  );

const unsupported = (kind: AssetKind, found: string | undefined) =>
  new AppError(
    'unsupported',
    CatalogErrors.assetTypeNotAllowed,
    `This file is not an accepted ${kind} (${found ? `its content is ${found}` : 'its content type is not recognised'}). ` +
      `Accepted: ${[...new Set(Object.values(ACCEPTED[kind]))].join(', ')}.`,
  );

/**
 * Passes an upload through unchanged while counting it and recognising its type from its first
 * bytes. It fails the stream (so the store discards the partial object) as soon as the file is
 * too large or its content is not an accepted type, without reading the rest.
 */
export class InspectingStream extends Transform {
  detected: { ext: string; contentType: string } | undefined;
  size = 0;
  private head: Buffer[] = [];
  private headLength = 0;

  constructor(
    private readonly kind: AssetKind,
    private readonly limit: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      callback(tooLarge(this.kind, this.limit));
      return;
    }
    if (this.detected) {
      callback(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength >= HEAD_BYTES) this.decide(callback);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.detected) callback();
    else this.decide(callback);
  }

  private decide(callback: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    // file-type, pdf-lib and music-metadata are imported on first use: together they are about
    // 30 MB of memory and a second of start-up (bench/RESULTS.md) that a server without uploads
    // never needs
    import('file-type')
      .then(({ fileTypeFromBuffer }) => fileTypeFromBuffer(head))
      .then(
        (type) => {
          const contentType = type ? ACCEPTED[this.kind][type.ext] : undefined;
          if (!type || !contentType) {
            callback(unsupported(this.kind, type?.mime));
            return;
          }
          this.detected = { ext: type.ext, contentType };
          callback(null, head);
        },
        (err: unknown) => {
          callback(err instanceof Error ? err : new Error(String(err)));
        },
      );
  }
}

/** Reads byte ranges of a stored object (inclusive end, as Storage.get takes them). */
export type RangeOpener = (start: number, end: number) => Promise<Readable>;

async function readRange(open: RangeOpener, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await open(start, end)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

class RangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly open: RangeOpener) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // yauzl's end is exclusive and it wants a stream synchronously
    if (end <= start) return Readable.from([]);
    const out = new PassThrough();
    this.open(start, end - 1).then(
      (stream) => {
        stream.on('error', (err) => out.destroy(err));
        stream.pipe(out);
      },
      (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))),
    );
    return out;
  }
}

/**
 * What a PPTX or EPUB may expand to. Declared size alone let a 1 MiB archive of zeros claim 2 GiB;
 * the ratios tie the expansion to what was uploaded. Text and XML compress 3–20×, so 100× is far
 * beyond honest content (the figure Apache POI uses); entries under `ratioFloorBytes` are never
 * refused for their ratio, since a small XML part of repeated tags can legitimately exceed it.
 */
export const ZIP_LIMITS = {
  maxEntries: 10_000,
  maxUncompressedBytes: 2 * 1024 * MiB,
  maxEntryRatio: 100,
  maxTotalRatio: 100,
  ratioFloorBytes: MiB,
};

const badContainer = (what: string, reason: string) =>
  new AppError(
    'unsupported',
    CatalogErrors.assetTypeNotAllowed,
    `This file is not a valid ${what}: ${reason}.`,
  );

/**
 * Prove a zip is a PPTX or an EPUB from its central directory, read in ranges from the store.
 * Nothing is extracted except EPUB's 20-byte `mimetype` entry; entry count, declared total size
 * and compression ratios are capped so a zip bomb is refused before anyone downstream inflates it.
 */
export async function checkZipContainer(
  open: RangeOpener,
  size: number,
  expect: 'pptx' | 'epub',
  limits = ZIP_LIMITS,
): Promise<void> {
  const what = expect === 'pptx' ? 'PowerPoint (PPTX) file' : 'EPUB e-book';
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromRandomAccessReaderPromise(new RangeReader(open), size, {
      lazyEntries: true,
      // kept open after the last entry: the EPUB check reads `mimetype` afterwards
      autoClose: false,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch {
    throw badContainer(what, 'the zip structure cannot be read');
  }
  try {
    if (zip.entryCount > limits.maxEntries)
      throw badContainer(what, `more than ${limits.maxEntries} entries`);
    const names = new Set<string>();
    let total = 0;
    let mimetype: yauzl.Entry | undefined;
    // expansion beyond this is a bomb whatever each entry says
    const totalAllowed = Math.min(
      limits.maxUncompressedBytes,
      Math.max(limits.ratioFloorBytes, limits.maxTotalRatio * size),
    );
    for await (const entry of zip.eachEntry()) {
      total += entry.uncompressedSize;
      if (total > totalAllowed) throw badContainer(what, 'it expands to more than the size allowed');
      if (
        entry.uncompressedSize > limits.ratioFloorBytes &&
        entry.uncompressedSize > limits.maxEntryRatio * Math.max(entry.compressedSize, 1)
      ) {
        throw badContainer(what, `an entry expands more than ${limits.maxEntryRatio} times`);
      }
      names.add(entry.fileName);
      if (entry.fileName === 'mimetype') mimetype = entry;
    }
    if (expect === 'pptx') {
      if (!names.has('[Content_Types].xml') || ![...names].some((n) => n.startsWith('ppt/'))) {
        throw badContainer(what, 'it has no [Content_Types].xml and ppt/ part');
      }
      return;
    }
    if (!mimetype || mimetype.uncompressedSize !== EPUB.length || !names.has('META-INF/container.xml')) {
      throw badContainer(what, 'it has no mimetype entry of application/epub+zip and META-INF/container.xml');
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(mimetype)) chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).toString('latin1') !== EPUB)
      throw badContainer(what, 'its mimetype is not application/epub+zip');
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw badContainer(what, 'the zip structure is damaged');
  } finally {
    zip.close();
  }
}

/** Duration from an MP4's movie header, found by walking boxes with small range reads. */
export async function mp4DurationSeconds(open: RangeOpener, size: number): Promise<number | undefined> {
  const boxAt = async (offset: number) => {
    const h = await readRange(open, offset, Math.min(offset + 15, size - 1));
    if (h.length < 8) return undefined;
    let length = h.readUInt32BE(0);
    let header = 8;
    if (length === 1 && h.length >= 16) {
      length = Number(h.readBigUInt64BE(8));
      header = 16;
    } else if (length === 0) length = size - offset;
    return length < header ? undefined : { type: h.toString('latin1', 4, 8), length, header };
  };
  let offset = 0;
  for (let steps = 0; offset + 8 <= size && steps < 64; steps++) {
    const box = await boxAt(offset);
    if (!box) return undefined;
    if (box.type === 'moov') {
      const end = Math.min(offset + box.length, size);
      let child = offset + box.header;
      for (let inner = 0; child + 8 <= end && inner < 256; inner++) {
        const c = await boxAt(child);
        if (!c) return undefined;
        if (c.type === 'mvhd') {
          const p = await readRange(open, child + c.header, Math.min(child + c.header + 31, size - 1));
          const version = p[0];
          const [timescale, duration] =
            version === 1 && p.length >= 32
              ? [p.readUInt32BE(20), Number(p.readBigUInt64BE(24))]
              : p.length >= 20
                ? [p.readUInt32BE(12), p.readUInt32BE(16)]
                : [0, 0];
          return timescale > 0 && duration > 0 ? Math.round(duration / timescale) : undefined;
        }
        child += c.length;
      }
      return undefined;
    }
    offset += box.length;
  }
  return undefined;
}

const PDF_PAGE_COUNT_MAX_BYTES = 32 * MiB;

/**
 * Duration and page count where a library can tell; best effort, never a reason to refuse a
 * file whose type was already proven. pdf-lib needs the whole file in memory, so only PDFs up
 * to 32 MiB get a page count.
 */
export async function mediaMetadata(
  open: RangeOpener,
  size: number,
  detected: { ext: string; contentType: string },
): Promise<{ durationSeconds: number | null; pageCount: number | null }> {
  const none = { durationSeconds: null, pageCount: null };
  if (size === 0) return none;
  try {
    if (detected.contentType === PDF) {
      if (size > PDF_PAGE_COUNT_MAX_BYTES) return none;
      const { PDFDocument } = await import('pdf-lib');
      const doc = await PDFDocument.load(await readRange(open, 0, size - 1), {
        ignoreEncryption: true,
        updateMetadata: false,
        throwOnInvalidObject: false,
      });
      return { durationSeconds: null, pageCount: doc.getPageCount() };
    }
    if (detected.contentType === 'video/mp4' || detected.contentType === 'audio/mp4') {
      // the movie header gives the duration in a few small reads; music-metadata would read the
      // whole file and reports MP4 durations of audio tracks only
      const fromHeader = await mp4DurationSeconds(open, size);
      if (fromHeader !== undefined) return { durationSeconds: fromHeader, pageCount: null };
    }
    if (detected.contentType.startsWith('video/') || detected.contentType.startsWith('audio/')) {
      const { parseStream } = await import('music-metadata');
      const stream = await open(0, size - 1);
      try {
        const { format } = await parseStream(
          stream,
          { mimeType: detected.contentType, size },
          { duration: true, skipCovers: true },
        );
        if (format.duration && Number.isFinite(format.duration)) {
          return { durationSeconds: Math.round(format.duration), pageCount: null };
        }
      } finally {
        stream.destroy();
      }
    }
  } catch {
    return none;
  }
  return none;
}
