import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { EntityCategory, ExportFilePlan, PlannedCategory } from '../metadata/export-category.interface';
import type { ExportFileContext, ExportFileSource, ExportFileStream } from '../metadata/export-file.decorator';
import { CategorySource, LineChunker, NdjsonChunk } from '../source/category-source';
import { ExportProcessingError } from '../common/export.error';
import type { ArchiveContext } from './archive.writer';
import { isCompressed, safeFileName, uniqueFileName } from './attachment-name.util';
import type { ZipStreamWriter } from './zip-stream.writer';
import { messageOf, WatchedReader, withStall } from './watched-file.util';

/** Bytes read from a file before choosing between storing and deflating it. */
const TRIAL_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** An attachment as the manifest's `attachments` lists it. @publicApi */
export interface ExportAttachmentEntry {
  category: string;
  rowId: string;
  field: string;
  /** The ZIP entry, relative to the archive root (a file in the archive). */
  path?: string;
  /** Where the file is (a file over `maxBytes`, or a URL `resolve` gave). */
  url?: string;
  size: number | null;
  sha256?: string;
  contentType: string | null;
  expiresAt?: string;
}

/** A file that is not (whole) in the archive, as the manifest's `missing` lists it. @publicApi */
export interface ExportMissingAttachment {
  category: string;
  rowId: string;
  field: string;
  /** The entry that holds the bytes read before the failure, when there is one. */
  path?: string;
  reason: string;
}

interface PendingFile {
  readonly rowId: string;
  readonly plan: ExportFilePlan;
  readonly path: string;
  readonly file: ExportFileStream;
}

/** What a JSON document says of a file it does not hold. */
const NOT_IN_JSON = 'Files are included in the zip and csv formats; this format references them by URL only.';

/** Raised when a file source fails; `fail` stops the export with it. */

/**
 * Puts `@ExportFile` attachments into a ZIP. A category's rows stream through `source()`, which
 * resolves each row's files, rewrites the fields to their archive form and keeps a small
 * reference to each file (its row, field, path and the resolver's answer); once the category's
 * entry is written, `writeFiles()` streams the files one at a time into
 * `attachments/<category>/<rowId>/<name>`, hashing each, stored when already compressed and
 * deflated otherwise, under a stall watchdog. The references of one category are held until its
 * files are written (a few hundred bytes each; a stream given open, rather than as a function,
 * stays open meanwhile).
 * @internal
 */
export class AttachmentsWriter {
  readonly attachments: ExportAttachmentEntry[] = [];
  readonly missing: ExportMissingAttachment[] = [];
  private pending: PendingFile[] = [];
  /** The names taken in each row folder of the category being written. */
  private folders = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: ArchiveContext,
    /** `undefined`: a JSON document, which references files by URL only. */
    private readonly zip: ZipStreamWriter | undefined,
    private readonly date: Date,
    private readonly zip64Limit = 0xffffffff,
  ) {}

  /** Whether a category has files to put in the archive. */
  static has(category: PlannedCategory): category is EntityCategory & { files: readonly ExportFilePlan[] } {
    return category.kind === 'entity' && (category.files?.length ?? 0) > 0;
  }

  /** The context's source, with the files of `category` resolved as its rows go by. */
  source(category: PlannedCategory): CategorySource {
    const inner = this.ctx.source;
    if (!AttachmentsWriter.has(category)) return inner;
    return {
      count: (c) => inner.count(c),
      ndjson: (c) => this.rewrite(c as EntityCategory & { files: readonly ExportFilePlan[] }, inner.ndjson(c)),
      learnedSchema: inner.learnedSchema?.bind(inner),
      // The rows are rewritten from their NDJSON: a database's own CSV cannot be used.
      csv: () => undefined,
    };
  }

  /** Writes the files the category's rows referenced, in row order. */
  async writeFiles(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    this.folders = new Map();
    for (const item of pending) await this.writeFile(item);
  }

  private async *rewrite(category: EntityCategory & { files: readonly ExportFilePlan[] }, chunks: AsyncIterable<NdjsonChunk>): AsyncGenerator<NdjsonChunk> {
    const chunker = new LineChunker();
    let carry: Buffer | undefined;
    let index = 0;
    for await (const { bytes } of chunks) {
      const data = carry ? Buffer.concat([carry, bytes]) : bytes;
      let at = 0;
      for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, at)) {
        const line = await this.rewriteLine(category, data.toString('utf8', at, nl), index++);
        at = nl + 1;
        const chunk = chunker.push(line);
        if (chunk) yield chunk;
      }
      carry = at < data.length ? Buffer.from(data.subarray(at)) : undefined;
      const rest = chunker.flush();
      if (rest) yield rest;
    }
    if (carry && carry.length > 0) throw new Error(`The rows of ${category.name} ended inside a line`);
  }

  private async rewriteLine(category: EntityCategory & { files: readonly ExportFilePlan[] }, text: string, index: number): Promise<string> {
    const row = JSON.parse(text) as Record<string, unknown>;
    const ids = (category.idKeys ?? []).map((k) => row[k]);
    const rowId = safeFileName(ids.every((v) => v !== undefined && v !== null) && ids.length > 0 ? ids.map(String).join('-') : `row-${index + 1}`);
    const resolvedRow = { ...row };
    // Names are unique per folder: two ids that sanitize alike ('a/b', 'a_b') share one.
    let taken = this.folders.get(rowId);
    if (!taken) this.folders.set(rowId, (taken = new Set<string>()));
    for (const plan of category.files) {
      const fileCtx: ExportFileContext = {
        exportId: this.ctx.exportRow.id,
        accountId: this.ctx.exportRow.accountId,
        ...(this.ctx.exportRow.subjectUserId ? { userId: this.ctx.exportRow.subjectUserId } : {}),
        category: category.name,
        field: plan.key,
        ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
      };
      let source: ExportFileSource;
      try {
        // A resolver that never answers is abandoned like a stalled stream.
        source = await withStall(Promise.resolve().then(() => plan.resolve(resolvedRow, fileCtx)), plan.stallTimeoutMs, this.ctx.signal);
      } catch (err) {
        this.ctx.signal?.throwIfAborted();
        row[plan.key] = { missing: this.miss(category, rowId, plan, `resolve failed: ${messageOf(err)}`) };
        continue;
      }
      if (source === null || source === undefined) {
        row[plan.key] = null;
        continue;
      }
      const size = typeof source.size === 'number' && Number.isSafeInteger(source.size) && source.size >= 0 ? source.size : null;
      const contentType = typeof source.contentType === 'string' && source.contentType !== '' ? source.contentType : null;
      const hasStream = 'stream' in source && source.stream !== undefined && source.stream !== null;
      if (!hasStream || (size !== null && size > plan.maxBytes)) {
        if (typeof source.url !== 'string' || source.url === '') {
          const reason = hasStream ? `larger than maxBytes (${size} > ${plan.maxBytes}) and resolve gave no url` : 'resolve gave neither a stream nor a url';
          row[plan.key] = { missing: this.miss(category, rowId, plan, reason) };
          continue;
        }
        const expiresAt = isoOrNull(source.expiresAt) ?? isoOrNull(this.ctx.exportRow.expiresAt);
        row[plan.key] = { url: source.url, size, expiresAt };
        this.attachments.push({ category: category.name, rowId, field: plan.key, url: source.url, size, contentType, ...(expiresAt ? { expiresAt } : {}) });
        continue;
      }
      // A stream handed over open waits for its turn: an error meanwhile is seen when it is read.
      const given = (source as ExportFileStream).stream;
      if (typeof given !== 'function') given.on?.('error', () => undefined);
      const name = uniqueFileName(safeFileName(source.name), taken);
      if (!this.zip) {
        if (typeof given !== 'function') given.destroy?.();
        row[plan.key] = { name, size, contentType, notIncluded: NOT_IN_JSON };
        continue;
      }
      const path = `attachments/${category.name}/${rowId}/${name}`;
      this.pending.push({ rowId, plan, path, file: source as ExportFileStream });
      row[plan.key] = { path, size, contentType };
    }
    return JSON.stringify(row);
  }

  private miss(category: PlannedCategory, rowId: string, plan: ExportFilePlan, reason: string, path?: string): string {
    if (plan.onError === 'fail') {
      throw new ExportProcessingError(`An attachment of ${category.name} ${rowId} (${plan.key}) could not be read: ${reason}`);
    }
    this.missing.push({ category: category.name, rowId, field: plan.key, ...(path ? { path } : {}), reason });
    return reason;
  }

  private async writeFile(item: PendingFile): Promise<void> {
    const { plan, path, file, rowId } = item;
    const category = path.split('/')[1];
    const declared = typeof file.size === 'number' && Number.isSafeInteger(file.size) && file.size >= 0 ? file.size : undefined;
    const limit = Math.min(declared ?? plan.maxBytes, plan.maxBytes);
    const fail = (reason: string, written?: string) => {
      this.miss({ name: category } as PlannedCategory, rowId, plan, reason, written);
    };
    let stream: Readable;
    try {
      stream = typeof file.stream === 'function' ? await withStall(Promise.resolve(file.stream()), plan.stallTimeoutMs, this.ctx.signal) : file.stream;
    } catch (err) {
      return fail(`could not be opened: ${messageOf(err)}`);
    }
    const reader = new WatchedReader(stream, plan.stallTimeoutMs, this.ctx.signal);
    try {
      // The first 64 KiB decide between storing and deflating; a file that fails before them has no entry.
      const head: Buffer[] = [];
      let headBytes = 0;
      let ended = false;
      try {
        while (headBytes < TRIAL_BYTES) {
          const chunk = await reader.next();
          if (!chunk) {
            ended = true;
            break;
          }
          head.push(chunk);
          headBytes += chunk.length;
        }
      } catch (err) {
        this.ctx.signal?.throwIfAborted();
        return fail(`could not be read: ${messageOf(err)}`);
      }
      const first = Buffer.concat(head);
      const entry = this.zip!.openEntry(path, this.date, {
        store: isCompressed(file.contentType, first.subarray(0, TRIAL_BYTES)),
        zip64: (declared ?? plan.maxBytes) >= this.zip64Limit,
      });
      const hash = createHash('sha256');
      let size = 0;
      let problem: string | undefined;
      const put = async (chunk: Buffer) => {
        const room = limit - size;
        if (chunk.length > room) {
          chunk = chunk.subarray(0, room);
          problem = declared !== undefined && declared <= plan.maxBytes
            ? `larger than its declared size of ${declared} bytes: the entry holds its first ${limit} bytes`
            : `larger than maxBytes (${plan.maxBytes}): the entry holds its first ${limit} bytes`;
        }
        if (chunk.length === 0) return;
        hash.update(chunk);
        size += chunk.length;
        await entry.write(chunk);
      };
      await put(first);
      while (!ended && problem === undefined) {
        let chunk: Buffer | undefined;
        try {
          chunk = await reader.next();
        } catch (err) {
          this.ctx.signal?.throwIfAborted();
          problem = `failed after ${size} bytes: ${messageOf(err)}`;
          break;
        }
        if (!chunk) break;
        await put(chunk);
      }
      if (problem === undefined && declared !== undefined && size !== declared) {
        problem = `shorter than its declared size (${size} of ${declared} bytes)`;
      }
      await entry.end();
      if (problem !== undefined) return fail(problem, path);
      this.attachments.push({ category, rowId, field: plan.key, path, size, sha256: hash.digest('hex'), contentType: file.contentType ?? null });
    } finally {
      reader.close();
    }
  }
}

/** Reads a stream chunk by chunk; a chunk that takes longer than `ms` (or an abort) ends the read with an error. */
/** A date as ISO-8601, or `null` when there is none or it is not a date. */
function isoOrNull(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
