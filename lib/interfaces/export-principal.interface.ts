import type { ExportKind } from '../common/export-status.enum';

export { EXPORT_KINDS, type ExportKind } from '../common/export-status.enum';

/**
 * Who asks: resolved from the HTTP request (default `req.user`) or passed to `ExportService`.
 * @publicApi
 */
export interface ExportPrincipal {
  userId: string;
  accountId: string;
  role: string;
  email?: string;
}

/**
 * What a scope function, a `personal` function and an exporter receive: what the export is of
 * and who asked for it.
 * @publicApi
 */
export interface ExportSubject {
  /** `'personal'` when the export holds only the data about `userId`. */
  kind: ExportKind;
  /** The account being exported. */
  accountId: string;
  /**
   * The user the export is about: the member of a personal export (themselves, or the member an
   * owner or admin asked for), and for an account export the requester.
   */
  userId: string;
  /** User id of who asked for the export (an owner or admin for an export on behalf). */
  requestedBy: string;
}

/**
 * The member a personal export on behalf is about, as `ExportPolicy.resolveSubject()` confirms
 * them: the address the ready message goes to, and a name to show.
 * @publicApi
 */
export interface ExportSubjectUser {
  userId: string;
  /** Where the ready message is sent; `null` when the member has none. */
  email: string | null;
  displayName?: string;
}
