import { DataExport } from '../entities/data-export.entity';
import {
  ExportCooldownException,
  ExportException,
  ExportForbiddenException,
  ExportUnauthenticatedException,
} from '../common/export.exception';
import { resolveExportOptions } from '../options/validate-export-options.util';
import type { ExportModuleOptions } from '../options/export-module-options.interface';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import { DefaultExportPolicy } from './default-export.policy';
import { ExportPolicy } from './export.policy';

const policyWith = (options: Partial<ExportModuleOptions> = {}) =>
  new DefaultExportPolicy(resolveExportOptions({ secret: 's'.repeat(32), ...options }));

const owner: ExportPrincipal = { userId: 'u1', accountId: 'acme', role: 'owner' };

/** The exception `fn` throws (fails the test when it throws none). */
function refusal(fn: () => unknown): ExportException {
  try {
    fn();
  } catch (err) {
    return err as ExportException;
  }
  throw new Error('expected a refusal, got none');
}

const completedAt = (at: Date | null) => Object.assign(new DataExport(), { completedAt: at });

const NOW = new Date('2025-06-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const H = 3_600_000;

describe('DefaultExportPolicy', () => {
  it('is an ExportPolicy', () => {
    expect(policyWith()).toBeInstanceOf(ExportPolicy);
  });

  describe('personal exports', () => {
    it('lets any signed-in member export their own data, whatever the role', () => {
      const policy = policyWith();
      expect(() => policy.assertCanExportOwnData({ userId: 'u2', accountId: 'acme', role: 'agent' })).not.toThrow();
      expect(() => policy.assertCanExportOwnData({ userId: 'u2', accountId: 'acme', role: 'viewer' })).not.toThrow();
      for (const who of [null, undefined, { userId: '', accountId: 'acme', role: 'agent' }, { userId: 'u', accountId: '', role: 'agent' }]) {
        expect(refusal(() => policy.assertCanExportOwnData(who as ExportPrincipal))).toBeInstanceOf(ExportUnauthenticatedException);
      }
    });

    it('refuses exports on behalf until resolveSubject is overridden, saying so', () => {
      const err = refusal(() => policyWith().resolveSubject(owner, 'u2'));
      expect(err).toBeInstanceOf(ExportForbiddenException);
      expect(err.message).toMatch(/Override ExportPolicy\.resolveSubject\(principal, userId\)/);
    });
  });

  describe('assertCanManage', () => {
    it.each(['owner', 'admin'])('lets a %s manage exports', (role) => {
      expect(() => policyWith().assertCanManage({ ...owner, role })).not.toThrow();
    });

    it.each<[string, unknown]>([
      ['no principal', undefined],
      ['null', null],
      ['a string', 'u1'],
      ['no accountId', { userId: 'u1', role: 'owner' }],
      ['an empty accountId', { userId: 'u1', accountId: '', role: 'owner' }],
      ['a numeric accountId', { userId: 'u1', accountId: 7, role: 'owner' }],
      ['no userId', { accountId: 'acme', role: 'owner' }],
      ['an empty userId', { userId: '', accountId: 'acme', role: 'owner' }],
    ])('refuses %s as unauthenticated (401)', (_what, principal) => {
      const err = refusal(() => policyWith().assertCanManage(principal as ExportPrincipal));
      expect(err).toBeInstanceOf(ExportUnauthenticatedException);
      expect(err.getStatus()).toBe(401);
      expect(err.getResponse()).toEqual({
        statusCode: 401,
        code: 'EXPORT_UNAUTHENTICATED',
        message: 'Sign in to manage data exports.',
      });
    });

    it.each(['agent', 'Owner', 'ADMIN', '', undefined])('refuses the role %p as forbidden (403)', (role) => {
      const err = refusal(() => policyWith().assertCanManage({ ...owner, role: role as string }));
      expect(err).toBeInstanceOf(ExportForbiddenException);
      expect(err.getStatus()).toBe(403);
      expect(err.code).toBe('EXPORT_FORBIDDEN');
    });

    it('follows allowedRoles', () => {
      const policy = policyWith({ allowedRoles: ['support'] });
      expect(() => policy.assertCanManage({ ...owner, role: 'support' })).not.toThrow();
      expect(refusal(() => policy.assertCanManage(owner))).toBeInstanceOf(ExportForbiddenException);
    });

    it('with no allowed role, refuses everyone signed in', () => {
      const policy = policyWith({ allowedRoles: [] });
      expect(refusal(() => policy.assertCanManage(owner))).toBeInstanceOf(ExportForbiddenException);
    });
  });

  describe('assertCanRequest', () => {
    it('allows the first export, and one after an export that never completed', () => {
      const policy = policyWith();
      expect(() => policy.assertCanRequest(owner, { now: NOW, lastCompleted: null })).not.toThrow();
      expect(() => policy.assertCanRequest(owner, { now: NOW, lastCompleted: completedAt(null) })).not.toThrow();
    });

    it('refuses within the 24 h cooldown, with when to retry (429)', () => {
      const err = refusal(() => policyWith().assertCanRequest(owner, { now: NOW, lastCompleted: completedAt(ago(23 * H)) }));
      expect(err).toBeInstanceOf(ExportCooldownException);
      expect(err.getStatus()).toBe(429);
      expect(err.getResponse()).toEqual({
        statusCode: 429,
        code: 'EXPORT_COOLDOWN',
        message: 'A new export can be requested after the cooldown.',
        retryAfterSeconds: 3600,
        availableAt: '2025-06-01T13:00:00.000Z',
      });
    });

    it('allows a new export once the cooldown has passed, to the millisecond', () => {
      const policy = policyWith();
      expect(() => policy.assertCanRequest(owner, { now: NOW, lastCompleted: completedAt(ago(24 * H)) })).not.toThrow();
      const err = refusal(() => policy.assertCanRequest(owner, { now: NOW, lastCompleted: completedAt(ago(24 * H - 1)) }));
      expect(err.getResponse()).toMatchObject({ retryAfterSeconds: 1, availableAt: '2025-06-01T12:00:00.001Z' });
    });

    it('follows the cooldown option', () => {
      const policy = policyWith({ cooldown: '1h' });
      expect(() => policy.assertCanRequest(owner, { now: NOW, lastCompleted: completedAt(ago(H)) })).not.toThrow();
      const err = refusal(() => policy.assertCanRequest(owner, { now: NOW, lastCompleted: completedAt(ago(30 * 60_000)) }));
      expect(err.getResponse()).toMatchObject({ retryAfterSeconds: 1800 });
    });
  });

  describe('protected hooks', () => {
    it('a subclass changes one rule by overriding isAllowedRole or cooldownMs', () => {
      class SupportPolicy extends DefaultExportPolicy {
        protected isAllowedRole(principal: ExportPrincipal): boolean {
          return principal.role === 'support' || super.isAllowedRole(principal);
        }
        protected cooldownMs(principal: ExportPrincipal): number {
          return principal.accountId === 'vip' ? 0 : super.cooldownMs(principal);
        }
      }
      const policy = new SupportPolicy(resolveExportOptions({ secret: 's'.repeat(32) }));
      const recent = { now: NOW, lastCompleted: completedAt(ago(60_000)) };

      expect(() => policy.assertCanManage({ ...owner, role: 'support' })).not.toThrow();
      expect(() => policy.assertCanManage(owner)).not.toThrow();
      expect(refusal(() => policy.assertCanManage({ ...owner, role: 'agent' }))).toBeInstanceOf(ExportForbiddenException);
      expect(() => policy.assertCanRequest({ ...owner, accountId: 'vip' }, recent)).not.toThrow();
      expect(refusal(() => policy.assertCanRequest(owner, recent))).toBeInstanceOf(ExportCooldownException);
    });
  });
});
