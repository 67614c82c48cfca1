import type { ExportPolicy } from '../policy/export.policy';
import { ExportForbiddenException, ExportUnauthenticatedException } from '../common/export.exception';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';

/** The length of the principal id columns (`accountId`, `requestedBy`, `activeSlot`). */
const PRINCIPAL_ID_MAX = 191;

/**
 * The policy's check, after refusing principal ids that their columns cannot hold (longer than
 * 191 characters, or with a NUL byte) as no principal: they never reach a query, whoever calls.
 * @internal
 */
export function assertPrincipal(policy: ExportPolicy, principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal {
  if (principal && typeof principal === 'object' && (!fitsIdColumn(principal.accountId) || !fitsIdColumn(principal.userId))) {
    throw new ExportUnauthenticatedException();
  }
  policy.assertCanManage(principal);
}

/**
 * `assertPrincipal` for what a member does with their own data (personal exports): the same id
 * checks, then the policy's `assertCanExportOwnData` (any signed-in member, by default).
 * @internal
 */
export function assertMember(policy: ExportPolicy, principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal {
  if (principal && typeof principal === 'object' && (!fitsIdColumn(principal.accountId) || !fitsIdColumn(principal.userId))) {
    throw new ExportUnauthenticatedException();
  }
  policy.assertCanExportOwnData(principal);
}

/** Whether the principal may manage the account's exports (owner or admin, by default), without throwing its refusal. @internal */
export function canManage(policy: ExportPolicy, principal: ExportPrincipal): boolean {
  try {
    policy.assertCanManage(principal);
    return true;
  } catch (err) {
    if (err instanceof ExportForbiddenException) return false;
    throw err;
  }
}

/** Whether a principal id fits its column; other types are the policy's to judge. @internal */
export function fitsIdColumn(value: unknown): boolean {
  if (typeof value !== 'string') return true;
  if (value.length > 2 * PRINCIPAL_ID_MAX || value.includes('\0')) return false;
  // Columns count characters (code points), not UTF-16 units.
  let characters = 0;
  for (const _ of value) characters++;
  return characters <= PRINCIPAL_ID_MAX;
}
