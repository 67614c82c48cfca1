import type { Readable } from 'node:stream';
import { EXPORT_FIELD_METADATA, EXPORT_FIELDS_METADATA } from '../common/export.constants';

/**
 * What `resolve` is told besides the row: whose export it is, and a signal that aborts when the
 * export stops (a stream opened for it should be destroyed then).
 * @publicApi
 */
export interface ExportFileContext {
  readonly exportId: string;
  readonly accountId: string;
  /** The member of a personal export. */
  readonly userId?: string;
  readonly category: string;
  readonly field: string;
  readonly signal?: AbortSignal;
}

/**
 * A file the archive holds: its bytes as a stream (or a function that opens it, called when the
 * file's turn comes: preferred, so that no file is open while it waits), its name, and, when
 * known, its size (a file that turns out larger is refused) and content type. `url` is used when
 * the file is larger than `maxBytes`.
 * @publicApi
 */
export interface ExportFileStream {
  readonly stream: Readable | (() => Promise<Readable> | Readable);
  readonly name: string;
  readonly size?: number;
  readonly contentType?: string;
  /** Where the file can be fetched during the download window, used instead of its bytes when it is over `maxBytes`. */
  readonly url?: string;
  /** Until when `url` works (ISO-8601 or a Date). */
  readonly expiresAt?: Date | string;
}

/**
 * A file the archive references by its URL only.
 * @publicApi
 */
export interface ExportFileUrl {
  readonly url: string;
  readonly name: string;
  readonly size?: number;
  readonly contentType?: string;
  readonly expiresAt?: Date | string;
}

/** What `resolve` returns: a stream, a URL, or `null` when the row references no file. @publicApi */
export type ExportFileSource = ExportFileStream | ExportFileUrl | null;

/**
 * Turns one row (as the archive holds it: JSON values, redaction applied) into its file.
 * Throwing marks the file missing.
 * @publicApi
 */
export type ExportFileResolver = (row: Record<string, unknown>, ctx: ExportFileContext) => ExportFileSource | Promise<ExportFileSource>;

/**
 * Options of `@ExportFile()`.
 * @publicApi
 */
export interface ExportFileOptions {
  readonly resolve: ExportFileResolver;
  /** Largest file put in the archive: bytes or `'50MB'` (binary units). Larger ones are referenced by URL. Default `'50MB'`. */
  readonly maxBytes?: number | string;
  /**
   * A file that cannot be read (resolve throws, the stream fails or stalls, it is larger than it
   * said): `'skip'` lists it under the manifest's `missing` and the export completes (default);
   * `'fail'` fails the export.
   */
  readonly onError?: 'skip' | 'fail';
  /** A file stream that delivers nothing for this long is abandoned (`'30s'`, ms). Default 60 s. */
  readonly stallTimeout?: number | string;
}

/** `@ExportFile` as stored in field metadata. @internal */
export interface ExportFileMetadata {
  readonly resolve: unknown;
  readonly maxBytes?: unknown;
  readonly onError?: unknown;
  readonly stallTimeout?: unknown;
}

/**
 * Puts the file a field references into the archive: `attachments/<category>/<rowId>/<name>` in a
 * ZIP or CSV archive, the field becoming `{ path, size, contentType }` (the sha256 is in the
 * manifest); a file over `maxBytes` becomes `{ url, size, expiresAt }`.
 *
 * @example
 * \@ExportFile({ resolve: (row) => ({ name: `${row.id}.png`, stream: () => openScreenshot(row.screenshotKey) }) })
 * \@Column({ nullable: true }) screenshotKey: string | null;
 * @publicApi
 */
export function ExportFile(options: ExportFileOptions): PropertyDecorator {
  return (target: object, propertyKey: string | symbol) => {
    const fields: (string | symbol)[] = Reflect.getMetadata(EXPORT_FIELDS_METADATA, target) ?? [];
    if (!fields.includes(propertyKey)) Reflect.defineMetadata(EXPORT_FIELDS_METADATA, [...fields, propertyKey], target);
    const existing = Reflect.getMetadata(EXPORT_FIELD_METADATA, target, propertyKey) ?? {};
    const file: ExportFileMetadata = { ...(options ?? {}) } as ExportFileMetadata;
    Reflect.defineMetadata(EXPORT_FIELD_METADATA, { ...existing, file }, target, propertyKey);
  };
}
