import { Inject, Injectable } from '@nestjs/common';
import {
  ExportCooldownException,
  ExportForbiddenException,
} from '../common/export.exception';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import { ExportPolicy, ExportRequestContext } from './export.policy';

/** What the default policy reads of the module's resolved options. @publicApi */
export interface DefaultExportPolicySettings {
  /** Roles that may manage exports (the `allowedRoles` option). */
  readonly allowedRoles: readonly string[];
  /** The `cooldown` option, in milliseconds. */
  readonly cooldownMs: number;
}

/**
 * The default rules: roles from `allowedRoles` (owner, admin) may manage exports; every signed-in
 * member may export their own data (personal exports); exports on behalf of a member are refused
 * until `resolveSubject` is overridden; a new export may start `cooldown` (24 h) after the last
 * completed one of its slot (the account, or the member for a personal export). Failed and cancelled exports start
 * no cooldown, and billing state is never consulted. Override the protected hooks to change one
 * rule.
 * @publicApi
 */
@Injectable()
export class DefaultExportPolicy extends ExportPolicy {
  constructor(@Inject(EXPORT_RESOLVED_OPTIONS) protected readonly options: DefaultExportPolicySettings) {
    super();
  }

  assertCanManage(principal: ExportPrincipal | null | undefined): asserts principal is ExportPrincipal {
    this.assertCanExportOwnData(principal);
    if (!this.isAllowedRole(principal)) throw new ExportForbiddenException();
  }

  assertCanRequest(principal: ExportPrincipal, { now, lastCompleted }: ExportRequestContext): void {
    if (!lastCompleted?.completedAt) return;
    const availableAt = new Date(lastCompleted.completedAt.getTime() + this.cooldownMs(principal));
    if (availableAt.getTime() > now.getTime()) throw new ExportCooldownException(availableAt, now);
  }

  /** Whether the principal's role may manage exports. */
  protected isAllowedRole(principal: ExportPrincipal): boolean {
    return this.options.allowedRoles.includes(principal.role);
  }

  /** The wait after a completed export, in milliseconds. */
  protected cooldownMs(_principal: ExportPrincipal): number {
    return this.options.cooldownMs;
  }
}
