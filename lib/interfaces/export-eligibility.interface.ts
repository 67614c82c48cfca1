/**
 * Why a principal cannot request an export now: the code the request would be refused with.
 * @publicApi
 */
export type ExportIneligibleReason = 'EXPORT_FORBIDDEN' | 'EXPORT_ALREADY_ACTIVE' | 'EXPORT_COOLDOWN' | 'EXPORT_EMAIL_REQUIRED';

/**
 * Whether the signed-in principal may request an export now, answered before any request
 * (`ExportService.eligibility()`, `GET /exports/eligibility`), so that a page can show the rule
 * instead of a refusal after the click.
 * @publicApi
 */
export interface ExportEligibility {
  canRequest: boolean;
  /**
   * Why not, as the stable code a request would be refused with: `EXPORT_FORBIDDEN` (role),
   * `EXPORT_ALREADY_ACTIVE`, `EXPORT_COOLDOWN`, `EXPORT_EMAIL_REQUIRED` (confirmation is on and
   * the principal has no email); absent when `canRequest`.
   */
  reason?: ExportIneligibleReason;
  /**
   * ISO-8601: when a request will be allowed (the cooldown's end; the expiry of the completed
   * or unconfirmed export holding the slot), or `null` when unknown or never (role, email, an
   * export still running).
   */
  nextAllowedAt: string | null;
  /** The export holding the account's slot, if any. */
  activeExportId: string | null;
}
