import type { DataExport } from '../entities/data-export.entity';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';

/** What the policy sees when a principal requests an export. @publicApi */
export interface ExportRequestContext {
  /** Now, from the injected `ExportClock`. */
  now: Date;
  /** The account's most recent export that completed (downloadable or not), if any. */
  lastCompleted: DataExport | null;
}

/**
 * Who may manage exports and when a new one may start. Replace it with your own class through
 * `ExportModule.forRoot({ policy: MyPolicy })`, usually by extending `DefaultExportPolicy`.
 * "One active export per account" is not a policy decision: the database enforces it.
 * Refusals are thrown as the library's exceptions so that every caller answers alike.
 * @publicApi
 */
export abstract class ExportPolicy {
  /**
   * Whether the principal may request, list, read and cancel its account's exports.
   * @throws ExportUnauthenticatedException without a principal, ExportForbiddenException otherwise
   */
  abstract assertCanManage(principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal;

  /**
   * Whether a new export may start now (e.g. the cooldown).
   * @throws ExportCooldownException
   */
  abstract assertCanRequest(principal: ExportPrincipal, context: ExportRequestContext): void | Promise<void>;
}
