import { ExportInvalidRequestException } from '../common/export.exception';
import type { ExportActor } from './export-admin.interface';

/** The user id an actor stands for, checked to fit the audit column. @internal */
export function actorId(actor: ExportActor): string {
  const id = typeof actor === 'string' ? actor : actor && typeof actor === 'object' ? actor.userId : undefined;
  if (typeof id !== 'string' || !id.trim() || id.length > 191) {
    throw new ExportInvalidRequestException('An admin action needs its actor: the operator\'s user id (1 to 191 characters).');
  }
  return id;
}

/** A reason as an audit detail (at most 500 characters), or none. @internal */
export function reasonOf(reason: unknown): { reason: string } | undefined {
  return typeof reason === 'string' && reason.trim() ? { reason: reason.trim().slice(0, 500) } : undefined;
}

/** A list bound: a Date or an ISO-8601 string. @internal */
export function listDate(name: string, value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new ExportInvalidRequestException(`${name} must be a date (ISO-8601).`);
  return date;
}

/** A page's position: the last item's request time and id. @internal */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

/** @throws ExportInvalidRequestException for a cursor this service did not give @internal */
export function decodeCursor(cursor: unknown): { at: Date; id: string } {
  const text = typeof cursor === 'string' && cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const [iso, id, extra] = text.split('|');
  const at = new Date(iso ?? '');
  if (extra !== undefined || !id || Number.isNaN(at.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new ExportInvalidRequestException('cursor is not one this list gave.');
  }
  return { at, id };
}
