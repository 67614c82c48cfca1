/**
 * An export that says what it left out: every entity is exported, excluded with a reason, or
 * reported as not covered (a boot error with `coverage.required`), and the archive lists it all
 * under "What is not included", with "About this data" (GDPR Article 15) beside it.
 */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  CategoryExporter,
  Exportable,
  ExportExcluded,
  Exporter,
  ExportModuleOptions,
  ExportRegistry,
  ExportStatus,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { bootMessage } from '../utils/boot';
import { createTestApp, downloadArchive, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };

/** Neither exported nor excluded: not covered. */
@Entity('coverage_audit_entries')
class AuditEntry {
  @PrimaryColumn({ type: 'varchar', length: 40 }) id: string;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
}

@ExportExcluded({ reason: 'Sign-in sessions expire after 24 hours and hold no data about you.' })
@Entity('coverage_sessions')
class Session {
  @PrimaryColumn({ type: 'varchar', length: 40 }) id: string;
}

/** Excluded through the `coverage.excluded` option. */
@Entity('coverage_login_attempts')
class LoginAttempt {
  @PrimaryColumn({ type: 'varchar', length: 40 }) id: string;
}

@Exportable({
  category: 'notes',
  scope: 'accountId',
  description: 'Internal notes',
  about: { purpose: 'To keep context between support agents', recipients: ['Your team'], source: 'Written by your team' },
})
@Entity('coverage_notes')
class Note {
  @PrimaryColumn({ type: 'varchar', length: 40 }) id: string;
  @Column({ type: 'varchar', length: 40 }) accountId: string;
  @Column({ type: 'text' }) body: string;
}

@Exporter('billing', { note: 'Card numbers: held by the payment provider, never by us.', about: { source: 'Your payment provider' } })
class BillingExporter implements CategoryExporter {
  async *rows() {
    yield { id: 'inv-1' };
  }
}

const ENTITIES = [...HELP_DESK_ENTITIES, AuditEntry, Session, LoginAttempt, Note];
const COVERAGE: ExportModuleOptions['coverage'] = {
  excluded: { LoginAttempt: 'Kept 30 days for security, as counts only.' },
  notes: ['Email we sent you: held by our mail provider for 30 days.'],
};
const ABOUT = { retention: 'Until the account is deleted, then 30 days in backups.' };

describe.each(DATABASES)('what an export leaves out, on %s', (db) => {
  it('lists excluded, not covered, not requested and redacted parts, the notes, and what each category is for', async () => {
    const t = await createTestApp(db, {
      entities: ENTITIES,
      metadata: { providers: [BillingExporter] },
      exportOptions: { coverage: COVERAGE, about: ABOUT },
    });
    try {
      await seedHelpDesk(t.dataSource, 2);
      await t.dataSource.getRepository(Note).insert({ id: 'n1', accountId: TEAM_A, body: 'call back' });
      expect(t.app.get(ExportRegistry).getNotIncluded()).toMatchObject({
        excluded: [
          { name: 'Session', reason: 'Sign-in sessions expire after 24 hours and hold no data about you.' },
          { name: 'LoginAttempt', reason: 'Kept 30 days for security, as counts only.' },
        ],
        notCovered: ['AuditEntry'],
        notes: ['Email we sent you: held by our mail provider for 30 days.', 'Card numbers: held by the payment provider, never by us.'],
      });

      // A subset: the other categories are "not requested".
      const view = await t.service.request(OWNER, { categories: ['customers', 'notes', 'billing'] });
      const row = await waitForExport(t.dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Completed);
      const files = await readZip(await downloadArchive(t, view.id, OWNER));
      const manifest = JSON.parse(files.get('manifest.json')!.toString());
      expect(manifest.notIncluded).toEqual({
        excluded: [
          { name: 'Session', reason: 'Sign-in sessions expire after 24 hours and hold no data about you.' },
          { name: 'LoginAttempt', reason: 'Kept 30 days for security, as counts only.' },
        ],
        notCovered: ['AuditEntry'],
        // In archive order.
        notRequested: ['tickets', 'messages', 'webhooks'],
        redactedFields: [
          { category: 'customers', field: 'portalPasswordHash', reason: 'sensitive-name' },
          { category: 'customers', field: 'nationalId', reason: 'redact' },
        ],
        notes: ['Email we sent you: held by our mail provider for 30 days.', 'Card numbers: held by the payment provider, never by us.'],
      });
      const byName = Object.fromEntries(manifest.categories.map((c: { name: string }) => [c.name, c]));
      for (const c of manifest.categories) expect(c.status).toBe('complete');
      expect(byName.notes.about).toEqual({
        retention: ABOUT.retention,
        purpose: 'To keep context between support agents',
        recipients: ['Your team'],
        source: 'Written by your team',
      });
      expect(byName.billing.about).toEqual({ retention: ABOUT.retention, source: 'Your payment provider' });
      expect(byName.customers.about).toEqual({ retention: ABOUT.retention });

      const readme = files.get('README.txt')!.toString();
      expect(readme).toContain('What is not included');
      for (const line of [
        '  - Email we sent you: held by our mail provider for 30 days.',
        '  - Session: Sign-in sessions expire after 24 hours and hold no data about you.',
        '  - tickets: not requested in this export (request it again with all categories)',
        '  - AuditEntry: not part of the export',
        '  - customers.portalPasswordHash: a credential, never exported',
        '  - customers.nationalId: left out on purpose',
        '    Purpose:    To keep context between support agents',
        '    Source:     Your payment provider',
      ]) {
        expect(readme).toContain(line);
      }
    } finally {
      await t.close();
    }
  });
});

describe('the coverage check at boot', () => {
  const boot = (exportOptions: Partial<ExportModuleOptions>, entities: Function[] = ENTITIES) => bootMessage(entities, exportOptions);

  it('refuses a not-covered entity with coverage.required, naming it and both fixes', async () => {
    expect(await boot({ coverage: { ...COVERAGE, required: true } })).toBe(
      'Not in the export: AuditEntry. Mark each with @Exportable({ category, scope }) to export it, or leave it out on purpose with @ExportExcluded({ reason }) (or the coverage.excluded option).',
    );
    // Once every entity is covered, it boots.
    expect(await boot({ coverage: { ...COVERAGE, required: true, excluded: { ...COVERAGE!.excluded, AuditEntry: 'Internal records.' } } })).toBe('booted');
  });

  it('refuses bad coverage and about settings with the fix', async () => {
    expect(await boot({ coverage: { excluded: { Sessions: 'typo' } } })).toBe(
      'ExportModule option "coverage.excluded" names "Sessions", which is not an entity of the DataSource. Use the entity\'s class name.',
    );
    expect(await boot({ coverage: { notes: [''] } })).toMatch(/^ExportModule option "coverage" must be/);
    expect(await boot({ about: { recipients: 'everyone' as never } })).toBe(
      'ExportModule option "about" must be { purpose?, retention?, source? } (non-empty texts) with recipients? a list of texts.',
    );
    @ExportExcluded({ reason: '' })
    @Entity('coverage_blank')
    class Blank {
      @PrimaryColumn({ type: 'varchar', length: 40 }) id: string;
    }
    expect(await boot({}, [...HELP_DESK_ENTITIES, Blank])).toBe("@ExportExcluded on Blank needs a reason: @ExportExcluded({ reason: 'why it is not exported' }).");
  });
});
