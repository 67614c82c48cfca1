import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Exportable, ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';

/*
 * A scope function is one condition of the export's query, whatever it writes: its where() and
 * orWhere() are bracketed, so the filters the library adds after it (since, until, deleted rows)
 * apply to every row it keeps, and an OR of the host's never reaches past them.
 */

const OWNER_A: ExportPrincipal = { userId: 'owner-a', accountId: 'team-a', role: 'owner' };

@Exportable({
  category: 'documents',
  timestamp: 'createdAt',
  // Owned by the team, or shared with it: two conditions joined by OR.
  scope: (qb, subject) => qb.where(`${qb.alias}.ownerTeam = :team`, { team: subject.accountId }).orWhere(`${qb.alias}.sharedWith = :team`, { team: subject.accountId }),
})
@Entity('scopefn_documents')
class SharedDocument {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) ownerTeam: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) sharedWith: string | null;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

const OLD = new Date(Date.UTC(2026, 0, 1));
const NEW = new Date(Date.UTC(2026, 5, 1));
const SINCE = '2026-03-01T00:00:00.000Z';

describe.each(DATABASES)('a scope function with OR on %s', (db) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(db, { entities: [SharedDocument] });
    await t.dataSource.getRepository(SharedDocument).insert([
      { id: 1, ownerTeam: 'team-a', sharedWith: null, createdAt: OLD },
      { id: 2, ownerTeam: 'team-a', sharedWith: null, createdAt: NEW },
      { id: 3, ownerTeam: 'team-b', sharedWith: 'team-a', createdAt: OLD },
      { id: 4, ownerTeam: 'team-b', sharedWith: 'team-a', createdAt: NEW },
      { id: 5, ownerTeam: 'team-b', sharedWith: null, createdAt: NEW },
    ]);
  });
  afterAll(() => t?.close());

  it('keeps only the rows since the date, from both sides of the OR', async () => {
    const view = await t.service.request(OWNER_A, { since: SINCE });
    const row = await waitForExport(t.dataSource, view.id);
    expect([row.status, row.error]).toEqual([ExportStatus.Completed, null]);
    const files = await readZip(await downloadArchive(t, row.id, OWNER_A));
    const ids = parseNdjson(files.get('documents.ndjson')!).map((r) => r.id).sort();
    expect(ids).toEqual([2, 4]);
    expect(row.counts).toEqual({ documents: 2 });
  });
});
