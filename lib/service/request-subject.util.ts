import { ExportInvalidRequestException, ExportNotFoundException } from '../common/export.exception';
import type { ExportFormat } from '../common/export-status.enum';
import type { ExportFilters } from '../entities/data-export.entity';
import type { ExportKind, ExportPrincipal, ExportSubject, ExportSubjectUser } from '../interfaces/export-principal.interface';
import type { RequestExportInput } from '../interfaces/request-export.interface';
import type { ExportRegistry } from '../metadata/export.registry';
import type { ExportPolicy } from '../policy/export.policy';
import { assertMember, assertPrincipal } from './principal.util';
import { validateRequestInput, validateRequestKind } from './request-input.util';

/**
 * Who may ask for what, and whom the export is about: an account export needs a principal that
 * may manage exports (no subject member); a personal export of oneself any member; one on behalf
 * of another member a principal that may manage exports and the policy's confirmation that the
 * user is a member (with their address). Only the member's id and address are kept from the
 * policy's answer.
 * @throws ExportUnauthenticatedException, ExportForbiddenException, ExportNotFoundException
 * @internal
 */
export async function requestSubject(
  policy: ExportPolicy,
  principal: ExportPrincipal | null | undefined,
  kind: ExportKind,
  userId: string | undefined,
): Promise<ExportSubjectUser | null> {
  if (kind === 'account') {
    assertPrincipal(policy, principal);
    return null;
  }
  if (userId === undefined || (principal && typeof principal === 'object' && principal.userId === userId)) {
    assertMember(policy, principal);
    return { userId: principal.userId, email: typeof principal.email === 'string' ? principal.email : null };
  }
  assertPrincipal(policy, principal);
  const resolved = await policy.resolveSubject(principal, userId);
  // The policy answers for the member asked for, or the request is refused as for a non-member.
  if (!resolved || typeof resolved !== 'object' || resolved.userId !== userId) throw new ExportNotFoundException();
  return { userId, email: typeof resolved.email === 'string' ? resolved.email : null };
}

/**
 * The categories a personal export may hold (marked `personal`).
 * @throws ExportInvalidRequestException when none is
 * @internal
 */
export function personalCategories(registry: ExportRegistry): string[] {
  const names = registry.getPersonalCategoryNames();
  if (names.length === 0) {
    throw new ExportInvalidRequestException(
      'No category holds personal data: mark the categories about one member with @Exportable({ personal }) or @Exporter(..., { personal: true }).',
      { validCategories: [] },
    );
  }
  return names;
}

/** A request's input checked and its subject worked out: what `request()` and `estimate()` share. @internal */
export interface ResolvedRequest {
  readonly kind: ExportKind;
  /** The member a personal export is about; `null` for an account export. */
  readonly member: ExportSubjectUser | null;
  /** What scopes, `personal` ties and exporters receive. */
  readonly subject: ExportSubject;
  readonly format: ExportFormat;
  readonly filters: ExportFilters;
}

/**
 * Checks the kind, the principal's right to ask (and the member, through the policy), then the
 * format, categories and dates against the categories of that kind.
 * @throws ExportUnauthenticatedException, ExportForbiddenException, ExportNotFoundException, ExportInvalidRequestException
 * @internal
 */
export async function resolveRequest(
  policy: ExportPolicy,
  registry: ExportRegistry,
  principal: ExportPrincipal | null | undefined,
  input: RequestExportInput,
): Promise<ResolvedRequest> {
  const { kind, userId } = validateRequestKind(input ?? {});
  const member = await requestSubject(policy, principal, kind, userId);
  const who = principal as ExportPrincipal;
  const { format, filters } = validateRequestInput(input ?? {}, kind === 'personal' ? personalCategories(registry) : registry.getCategoryNames());
  return { kind, member, subject: { kind, accountId: who.accountId, userId: member?.userId ?? who.userId, requestedBy: who.userId }, format, filters };
}
