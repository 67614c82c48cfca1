import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, LessThan, Repository } from 'typeorm';
import { ExportClock } from '../common/export.clock';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { DataExport } from '../entities/data-export.entity';
import { DataExportEvent, ExportAuditType } from '../entities/data-export-event.entity';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';

/** Who did it: a user id, or `'system'` for the worker and the sweeper. @internal */
export const SYSTEM_ACTOR = 'system';

/** What a caller of a transition adds to its audit record. @internal */
export interface ExportAuditNote {
  /** User id of who did it; `'system'` when omitted. */
  actor?: string;
  /** Another type than the transition's own (an operator's action). */
  type?: ExportAuditType;
  detail?: Record<string, unknown>;
  ip?: string | null;
  userAgent?: string | null;
}

/** Longest `detail` kept, in characters of JSON: a reason, a range, never a document. */
const DETAIL_MAX = 2000;

/**
 * Appends to the audit trail (`data_export_events`). The export store calls it for every
 * transition it applies and the downloads for every download; the admin service for operator
 * actions that change no status. A record holds ids, times, addresses and short reasons only:
 * never a token, a link, row data or a key. Writing is best-effort: a failure is logged (without
 * the record) and the export goes on, since an export the user is owed must not fail because its
 * trail could not be written.
 * @internal
 */
@Injectable()
export class ExportAudit {
  private readonly logger = new Logger('ExportAudit');

  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly clock: ExportClock,
  ) {}

  get enabled(): boolean {
    return this.options.audit !== undefined;
  }

  get repo(): Repository<DataExportEvent> {
    return this.dataSource.getRepository(DataExportEvent);
  }

  /** Records `type` for an export (its row, or its id: the account is then read). */
  async record(type: ExportAuditType, target: Pick<DataExport, 'id' | 'accountId'> | string, note: ExportAuditNote = {}): Promise<void> {
    if (!this.enabled) return;
    try {
      const row = typeof target === 'string'
        ? await this.dataSource.getRepository(DataExport).findOne({ where: { id: target }, select: { id: true, accountId: true } })
        : target;
      if (!row) return;
      await this.repo.insert({
        id: timeOrderedId(),
        at: this.clock.now(),
        type: note.type ?? type,
        exportId: row.id,
        accountId: row.accountId,
        actor: truncated(note.actor, 191) ?? SYSTEM_ACTOR,
        ip: truncated(note.ip, 64),
        userAgent: truncated(note.userAgent, 255),
        detail: smallDetail(note.detail) as DataExportEvent['detail'] & object,
      });
    } catch (err) {
      this.logger.warn(`Audit record "${note.type ?? type}" of export ${typeof target === 'string' ? target : target.id} not written (${(err as Error)?.name ?? 'Error'}); the export goes on`);
    }
  }

  /** Deletes the records older than the retention; returns how many. */
  async prune(): Promise<number> {
    if (!this.options.audit) return 0;
    const before = new Date(this.clock.now().getTime() - this.options.audit.retentionMs);
    const result = await this.repo.delete({ at: LessThan(before) });
    return result.affected ?? 0;
  }
}

let lastMs = 0;
let counter = 0;

/**
 * A UUID (version 7) that sorts in the order this process wrote its records: the wall-clock
 * millisecond, then a counter within it. The trail orders by `at`, then by `id`, so records of
 * one instant (a frozen test clock, one fast run) read in the order they happened.
 * @internal
 */
export function timeOrderedId(): string {
  const ms = Math.max(Date.now(), lastMs);
  if (ms === lastMs) counter++;
  else counter = 0;
  if (counter > 0xfff) return timeOrderedIdNextMs();
  lastMs = ms;
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function timeOrderedIdNextMs(): string {
  lastMs++;
  counter = -1;
  return timeOrderedId();
}

/** A text value cut to its column's length, or `null` when there is none. */
function truncated(value: unknown, max: number): string | null {
  return typeof value === 'string' && value ? value.slice(0, max) : null;
}

function smallDetail(detail: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!detail) return null;
  const clean = Object.fromEntries(Object.entries(detail).filter(([, v]) => v !== undefined));
  if (Object.keys(clean).length === 0) return null;
  const json = JSON.stringify(clean);
  return json.length <= DETAIL_MAX ? clean : { truncated: true };
}
