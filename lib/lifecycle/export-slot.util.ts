import { createHash } from 'node:crypto';
import type { DataExport } from '../entities/data-export.entity';
import type { ExportKind, ExportSubject } from '../interfaces/export-principal.interface';

/**
 * The value an active export holds in `activeSlot`, whose unique index lets one active export
 * per slot in: the account id for an account export (as every existing row holds it), and for a
 * personal export the sha256 hex of (account, kind, member) joined by NUL (which no id holds),
 * so it fits the 191-character column whatever the ids' lengths.
 * @internal
 */
export function exportSlot(accountId: string, kind: ExportKind, subjectUserId: string | null): string {
  if (kind === 'account') return accountId;
  return createHash('sha256').update(`${accountId}\u0000${kind}\u0000${subjectUserId ?? ''}`, 'utf8').digest('hex');
}

/** What the sources and exporters of an export receive. @internal */
export function subjectOf(row: Pick<DataExport, 'accountId' | 'kind' | 'subjectUserId' | 'requestedBy'>): ExportSubject {
  const personal = row.kind === 'personal';
  return {
    kind: personal ? 'personal' : 'account',
    accountId: row.accountId,
    userId: personal && row.subjectUserId ? row.subjectUserId : row.requestedBy,
    requestedBy: row.requestedBy,
  };
}
