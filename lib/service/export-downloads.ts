import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DataSource, Repository } from 'typeorm';
import { ExportClock } from '../common/export.clock';
import { DataExportDownload } from '../entities/data-export-download.entity';
import { DataExport } from '../entities/data-export.entity';
import { ARCHIVE_TYPES } from '../archive/archive-formats';
import { ExportFormat, ExportStatus } from '../common/export-status.enum';
import {
  ARCHIVE_MISSING_MESSAGE,
  ExportArchiveMissingException,
  ExportDownloadLimitException,
  ExportForbiddenException,
  ExportLinkExpiredException,
  ExportNotFoundException,
  ExportNotReadyException,
  ExportRangeNotSatisfiableException,
  ExportUnauthenticatedException,
} from '../common/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { ExportLinkSigner } from '../crypto/export-link.signer';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportPolicy } from '../policy/export.policy';
import { ArchiveStore } from '../storage/archive.store';
import type { ByteRange } from '../storage/export.storage';
import { ExportStore } from '../lifecycle/export.store';
import { ExportAudit } from '../lifecycle/export-audit';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportView } from '../interfaces/export-view.interface';
import { toExportView } from '../lifecycle/export-view.util';
import { assertMember, assertPrincipal } from './principal.util';

/** Downloads shown in an export's view (the latest ones; `downloadCount` has them all). */
const DOWNLOADS_SHOWN = 100;

/**
 * Who downloads: the signed-in principal, if any (another account's, or a role that may not
 * manage exports, is refused even with a valid link; none at all is refused only with
 * `downloadRequiresPrincipal`), and the client address recorded with the download.
 * @publicApi
 */
export interface ExportDownloadContext {
  principal?: ExportPrincipal | null;
  /** The request's client address (`req.ip`), recorded with a GET that starts a download. */
  ip?: string | null;
  /** The request's `User-Agent`, recorded in the audit trail with a download. */
  userAgent?: string | null;
}

/** What describes a downloadable archive. @publicApi */
export interface ExportDownloadInfo {
  accountId: string;
  /** Size of the whole archive in bytes. */
  size: number;
  /** SHA-256 (hex) of the whole archive; the HTTP ETag. */
  sha256: string;
  /** A safe file name for `Content-Disposition`. */
  fileName: string;
  contentType: string;
  export: ExportView;
}

/**
 * Chooses the range to serve once the archive is known (its size, and its sha256 for `If-Range`):
 * a range, `undefined` for the whole file, or `'unsatisfiable'`.
 * @publicApi
 */
export type ExportRangeChooser = (archive: ExportDownloadInfo) => ByteRange | 'unsatisfiable' | undefined;

/** An open download: the archive's bytes (or a range of them). @publicApi */
export interface ExportDownload extends ExportDownloadInfo {
  stream: Readable;
  /** Bytes in `stream`. */
  length: number;
  /** The range served, when one was asked for. */
  range?: ByteRange;
}

/**
 * Download links and downloads: checks a link and its principal, the download cap and the stored
 * archive, opens the archive (or a range of it) through the archive store, records each
 * download, and builds views that carry a fresh link. `ExportService` exposes it.
 * @internal
 */
@Injectable()
export class ExportDownloads {
  private readonly logger = new Logger('ExportService');

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly policy: ExportPolicy,
    private readonly links: ExportLinkSigner,
    private readonly clock: ExportClock,
    private readonly archives: ArchiveStore,
    private readonly store: ExportStore,
    private readonly audit: ExportAudit,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  private get downloads(): Repository<DataExportDownload> {
    return this.dataSource.getRepository(DataExportDownload);
  }

  /**
   * Checks a download link and describes the archive it opens, without opening it (HTTP HEAD).
   * A `principal` in `context` must be of the export's account with a role that may manage
   * exports; without one, the link alone opens it unless `downloadRequiresPrincipal` is set.
   * @throws ExportLinkInvalidException, ExportUnauthenticatedException (no principal where one is
   *   required), ExportForbiddenException (another account's principal, or a role not allowed),
   *   ExportLinkExpiredException, ExportNotFoundException, ExportNotReadyException,
   *   ExportDownloadLimitException (`maxDownloads` reached), ExportArchiveMissingException (the
   *   stored file is gone or cut: the export then expires)
   */
  async describe(id: string, token: unknown, context: ExportDownloadContext = {}): Promise<ExportDownloadInfo> {
    return (await this.check(id, token, context)).info;
  }

  /**
   * Opens a completed export for download with the token of a download link: one token check
   * and one read of the export. `range` serves part of it (HTTP `Range`): a range, or a function
   * that chooses one once the archive's size and checksum are known (`'unsatisfiable'` when the
   * asked range lies outside the file). Counts the download against `maxDownloads` and records
   * it with its time and `context.ip`; `context.principal` is checked as in `describe`.
   * @throws what `describe` throws, and ExportRangeNotSatisfiableException (416: a range outside
   *   the file)
   */
  async open(id: string, token: unknown, range?: ByteRange | ExportRangeChooser, context: ExportDownloadContext = {}): Promise<ExportDownload> {
    const { row, info } = await this.check(id, token, context);
    const wanted = typeof range === 'function' ? range(info) : range;
    if (wanted === 'unsatisfiable' || (wanted && (wanted.start < 0 || wanted.end < wanted.start || wanted.end >= info.size))) {
      throw new ExportRangeNotSatisfiableException(info.size);
    }
    const key = row.storageKey!;
    let stream: Readable;
    try {
      stream = await this.archives.open(id, key, { size: info.size, encrypted: row.encryption !== null }, wanted);
    } catch (err) {
      // Deleted since the check looked.
      if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return this.archiveMissing(id, key);
      throw err;
    }
    try {
      await this.recordDownload(row, context, wanted);
    } catch (err) {
      stream.destroy();
      throw err;
    }
    return { ...info, stream, length: wanted ? wanted.end - wanted.start + 1 : info.size, range: wanted };
  }

  /** Checks the link, the principal, the export's state, the cap and the stored archive. */
  private async check(id: string, token: unknown, context: ExportDownloadContext): Promise<{ row: DataExport; info: ExportDownloadInfo }> {
    this.links.verify(String(id), 'download', token);
    const row = await this.repo.findOneBy({ id });
    if (!row) throw new ExportNotFoundException();
    this.assertMayDownload(row, context?.principal);
    if (row.status !== ExportStatus.Completed) {
      // Only a lost archive expires an export with an error (see archiveMissing).
      if (row.status === ExportStatus.Expired && row.error !== null) throw new ExportArchiveMissingException();
      if ([ExportStatus.Expired, ExportStatus.Cancelled].includes(row.status)) throw new ExportLinkExpiredException();
      throw new ExportNotReadyException(row.status);
    }
    const now = this.clock.now();
    if (!row.expiresAt || row.expiresAt.getTime() <= now.getTime() || !row.storageKey || row.size === null) {
      throw new ExportLinkExpiredException();
    }
    if (this.downloadsUsedUp(row)) throw new ExportDownloadLimitException();
    await this.assertArchiveStored(row.id, row.storageKey, row.encryption !== null, row.size);
    const { extension, contentType } = ARCHIVE_TYPES[row.format] ?? ARCHIVE_TYPES[ExportFormat.Zip];
    const info: ExportDownloadInfo = {
      accountId: row.accountId,
      size: row.size,
      sha256: row.sha256 ?? '',
      // A personal export is named after its member too: two members' files never look alike.
      fileName: `data-export-${safeName(row.accountId)}${row.kind === 'personal' && row.subjectUserId ? `-${safeName(row.subjectUserId)}` : ''}-${row.completedAt!.toISOString().slice(0, 10)}.${extension}`,
      contentType,
      export: toExportView(row),
    };
    return { row, info };
  }

  /**
   * Counts one download, within `maxDownloads`: the increment is conditional, so concurrent
   * downloads never pass the cap. Then records its time and address.
   */
  private async recordDownload(row: DataExport, context: ExportDownloadContext, range: ByteRange | undefined): Promise<void> {
    const { id } = row;
    const ip = context?.ip;
    const now = this.clock.now();
    const count = this.dataSource.driver.escape('downloadCount');
    const update = this.repo
      .createQueryBuilder()
      .update(DataExport)
      .set({ downloadCount: () => `${count} + 1`, lastDownloadedAt: now })
      .where({ id });
    if (this.options.maxDownloads !== undefined) update.andWhere(`${count} < :max`, { max: this.options.maxDownloads });
    const result = await update.execute();
    if (this.options.maxDownloads !== undefined && (result.affected ?? 0) === 0) throw new ExportDownloadLimitException();
    await this.downloads.insert({ id: randomUUID(), exportId: id, at: now, ip: typeof ip === 'string' && ip ? ip.slice(0, 64) : null });
    // A download by link alone has no known user: its actor is 'anonymous'.
    await this.audit.record('downloaded', row, {
      actor: typeof context?.principal?.userId === 'string' ? context.principal.userId : 'anonymous',
      ip: typeof ip === 'string' ? ip : null,
      userAgent: typeof context?.userAgent === 'string' ? context.userAgent : null,
      detail: { size: row.size ?? undefined, ...(range ? { range: `${range.start}-${range.end}` } : {}) },
    });
  }

  /**
   * Who may open a download: a principal, when the request carries one, must be valid and of the
   * export's account, even with a valid link (a forwarded or leaked link opens nothing for another
   * signed-in member): for an account export of a role that may manage exports; for a personal
   * export the member it is about, or whoever asked for it on their behalf.
   */
  private assertMayDownload(row: DataExport, principal: ExportPrincipal | null | undefined): void {
    if (principal === null || principal === undefined) {
      if (this.options.downloadRequiresPrincipal) throw new ExportUnauthenticatedException();
      return;
    }
    if (row.kind === 'personal') assertMember(this.policy, principal);
    else assertPrincipal(this.policy, principal);
    if (principal.accountId !== row.accountId) {
      throw new ExportForbiddenException('This download belongs to another account. Sign in to the account that requested it.');
    }
    // A member's personal data opens for that member, and for whoever asked for it on their
    // behalf (to hand it to a member who cannot sign in); not for the account's other admins.
    if (row.kind === 'personal' && principal.userId !== row.subjectUserId && principal.userId !== row.requestedBy) {
      throw new ExportForbiddenException("This download holds another member's personal data. Only that member (or whoever requested it for them) can open it.");
    }
  }

  private downloadsUsedUp(row: DataExport): boolean {
    return this.options.maxDownloads !== undefined && Number(row.downloadCount) >= this.options.maxDownloads;
  }

  /**
   * Checks, before any header is sent, that the stored archive is whole: it exists and has the
   * size the export recorded (for an encrypted one, the size its header's segment layout gives).
   * HEAD and GET thus answer alike, and a cut file never starts a 200 or 206.
   */
  private async assertArchiveStored(id: string, key: string, encrypted: boolean, size: number): Promise<void> {
    if (!(await this.archives.isWhole(key, { size, encrypted }))) await this.archiveMissing(id, key);
  }

  /**
   * Expires a completed export whose archive was deleted or cut behind the library's back, as an
   * early delete does (slot freed, file removed), recording why; then refuses the download.
   */
  private async archiveMissing(id: string, key: string): Promise<never> {
    if (await this.store.loseArchive(id, key, ARCHIVE_MISSING_MESSAGE, this.clock.now())) {
      this.logger.warn(`Export ${id}: its stored archive is missing or incomplete; the export expired`);
      try {
        await this.archives.delete(key);
        await this.store.forgetFile(id);
      } catch (err) {
        this.logger.warn(`Export ${id}: the remains of its archive could not be deleted (${(err as Error)?.name ?? 'Error'})`);
      }
    }
    throw new ExportArchiveMissingException();
  }

  /** The export's view with its latest downloads and, while it can be downloaded, a fresh link. */
  async view(row: DataExport): Promise<ExportView> {
    const view = toExportView(row, await this.records(row));
    const now = this.clock.now();
    if (row.status === ExportStatus.Completed && row.expiresAt && row.expiresAt > now && !this.downloadsUsedUp(row)) {
      view.downloadUrl = this.links.downloadUrl(row);
    }
    return view;
  }

  /** The latest downloads of an export, oldest first. */
  async records(row: DataExport): Promise<DataExportDownload[]> {
    if (!row.downloadCount) return [];
    const latest = await this.downloads.find({ where: { exportId: row.id }, order: { at: 'DESC', id: 'DESC' }, take: DOWNLOADS_SHOWN });
    return latest.reverse();
  }
}

/** An account id as part of a download's file name. @internal */
export function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'account';
}
