import type { DataExport } from '../entities/data-export.entity';
import { ExportForbiddenException, ExportUnauthenticatedException } from '../common/export.exception';
import type { ExportKind, ExportPrincipal, ExportSubjectUser } from '../interfaces/export-principal.interface';

/** What the policy sees when a principal requests an export. @publicApi */
export interface ExportRequestContext {
  /** Now, from the injected `ExportClock`. */
  now: Date;
  /**
   * The most recent export of the same slot that completed (downloadable or not), if any: of the
   * account for an account export, of the same member for a personal one.
   */
  lastCompleted: DataExport | null;
  /** What is requested: the whole account, or one member's data. */
  kind?: ExportKind;
  /** The member a personal export is about (the principal, or the member asked for). */
  subjectUserId?: string;
}

/** What `resolveSubject()` of the default policy answers: on-behalf exports need the host's users. */
export const RESOLVE_SUBJECT_REFUSAL =
  'Exports on behalf of a member are off: the export library cannot know your users. Override ExportPolicy.resolveSubject(principal, userId) to confirm that the user is a member of the account and return their email.';

/**
 * Who may manage exports and when a new one may start. Replace it with your own class through
 * `ExportModule.forRoot({ policy: MyPolicy })`, usually by extending `DefaultExportPolicy`.
 * "One active export per account" (and per member, for personal exports) is not a policy
 * decision: the database enforces it. Refusals are thrown as the library's exceptions so that
 * every caller answers alike.
 * @publicApi
 */
export abstract class ExportPolicy {
  /**
   * Whether the principal may request, list, read and cancel its account's exports (account
   * exports, and personal exports on a member's behalf).
   * @throws ExportUnauthenticatedException without a principal, ExportForbiddenException otherwise
   */
  abstract assertCanManage(principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal;

  /**
   * Whether a new export may start now (e.g. the cooldown).
   * @throws ExportCooldownException
   */
  abstract assertCanRequest(principal: ExportPrincipal, context: ExportRequestContext): void | Promise<void>;

  /**
   * Whether the principal may request, list, read, cancel and download the exports of their own
   * data (personal exports). By default every signed-in member may, whatever their role.
   * @throws ExportUnauthenticatedException without a (valid) principal
   */
  assertCanExportOwnData(principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal {
    if (
      !principal ||
      typeof principal !== 'object' ||
      typeof principal.accountId !== 'string' ||
      principal.accountId.length === 0 ||
      typeof principal.userId !== 'string' ||
      principal.userId.length === 0
    ) {
      throw new ExportUnauthenticatedException();
    }
  }

  /**
   * Confirms that `userId` is a member of the principal's account, for a personal export on their
   * behalf (`{ kind: 'personal', userId }` by an owner or admin, who already passed
   * `assertCanManage`), and gives the address the ready message goes to. The library cannot know
   * the host's users, so the default refuses: override it to allow exports on behalf.
   *
   * @example
   * async resolveSubject(principal: ExportPrincipal, userId: string): Promise<ExportSubjectUser> {
   *   const member = await this.members.findOneBy({ id: userId, teamId: principal.accountId });
   *   if (!member) throw new ExportNotFoundException();
   *   return { userId: member.id, email: member.email, displayName: member.name };
   * }
   * @throws ExportNotFoundException when the user is not a member of the account,
   *   ExportForbiddenException (the default) when exports on behalf are not allowed
   */
  resolveSubject(_principal: ExportPrincipal, _userId: string): ExportSubjectUser | Promise<ExportSubjectUser> {
    throw new ExportForbiddenException(RESOLVE_SUBJECT_REFUSAL);
  }
}
