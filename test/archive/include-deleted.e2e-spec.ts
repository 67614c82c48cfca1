import { Column, DataSource, DeleteDateColumn, Entity, JoinColumn, ManyToOne, ObjectLiteral, PrimaryColumn } from 'typeorm';
import { Exportable, ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';
import { HELP_DESK_ENTITIES, Message, Ticket } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';

const OWNER_A: ExportPrincipal = { userId: 'user-a1', accountId: TEAM_A, role: 'owner' };

/** Column scope; soft-deletable. */
@Exportable({ category: 'folders', scope: 'teamId' })
@Entity('incdel_folders')
class Folder {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @DeleteDateColumn({ type: Date, precision: 3, nullable: true }) deletedAt: Date | null;
}

/** Relation scope one level deep, through a soft-deletable parent; soft-deletable itself. */
@Exportable({ category: 'notes', scope: 'folder.teamId' })
@Entity('incdel_notes')
class Note {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'integer' }) folderId: number;
  @ManyToOne(() => Folder, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'folderId' })
  folder?: Folder;
  @DeleteDateColumn({ type: Date, precision: 3, nullable: true }) deletedAt: Date | null;
}

/** Relation scope two levels deep: comment → note → folder, all soft-deletable. */
@Exportable({ category: 'comments', scope: 'note.folder.teamId' })
@Entity('incdel_comments')
class NoteComment {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'integer' }) noteId: number;
  @ManyToOne(() => Note, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'noteId' })
  note?: Note;
  @DeleteDateColumn({ type: Date, precision: 3, nullable: true }) deletedAt: Date | null;
}

/** A scope function that joins soft-deletable relations itself. */
@Exportable({
  category: 'bookmarks',
  scope: (qb, subject) =>
    qb
      .innerJoin(`${qb.alias}.note`, 'bookmark_note')
      .innerJoin('bookmark_note.folder', 'bookmark_folder')
      .where('bookmark_folder.teamId = :team', { team: subject.accountId }),
})
@Entity('incdel_bookmarks')
class Bookmark {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'integer' }) noteId: number;
  @ManyToOne(() => Note, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'noteId' })
  note?: Note;
  @DeleteDateColumn({ type: Date, precision: 3, nullable: true }) deletedAt: Date | null;
}

/** A scope function that reaches the account through a sub-query over soft-deletable entities. */
@Exportable({
  category: 'reactions',
  scope: (qb, subject) => {
    const notes = qb.subQuery().select('reaction_note.id').from(Note, 'reaction_note').innerJoin('reaction_note.folder', 'reaction_folder').where('reaction_folder.teamId = :team');
    return qb.where(`${qb.alias}.noteId IN ${notes.getQuery()}`, { team: subject.accountId });
  },
})
@Entity('incdel_reactions')
class Reaction {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'integer' }) noteId: number;
  @DeleteDateColumn({ type: Date, precision: 3, nullable: true }) deletedAt: Date | null;
}

/** Each category's entity, and the chain of rows (itself first) whose last one holds the team. */
const CATEGORIES: Record<string, { entity: Function; chain: (row: ObjectLiteral, db: Rows) => ObjectLiteral[] }> = {
  tickets: { entity: Ticket, chain: (r) => [r] },
  messages: { entity: Message, chain: (r, db) => [r, db.tickets.get(r.ticketId)!] },
  folders: { entity: Folder, chain: (r) => [r] },
  notes: { entity: Note, chain: (r, db) => [r, db.folders.get(r.folderId)!] },
  comments: { entity: NoteComment, chain: (r, db) => [r, ...CATEGORIES.notes.chain(db.notes.get(r.noteId)!, db)] },
  bookmarks: { entity: Bookmark, chain: (r, db) => [r, ...CATEGORIES.notes.chain(db.notes.get(r.noteId)!, db)] },
  reactions: { entity: Reaction, chain: (r, db) => [r, ...CATEGORIES.notes.chain(db.notes.get(r.noteId)!, db)] },
};
type Rows = Record<string, Map<unknown, ObjectLiteral>>;

/**
 * Per account, a live folder and a deleted one; in the live folder a live note and a deleted
 * one, and one in the deleted folder; on each note a live child and (on the live note) a
 * deleted one. Child ids: 10 × note + n.
 */
async function seedNotes(dataSource: DataSource): Promise<void> {
  const deleted = new Date(Date.UTC(2026, 0, 5, 8, 0, 0, 250));
  const folders = [];
  const notes = [];
  const children = [];
  for (const [team, base] of [[TEAM_A, 0], [TEAM_B, 100]] as const) {
    folders.push({ id: base + 1, teamId: team, deletedAt: null }, { id: base + 2, teamId: team, deletedAt: deleted });
    notes.push(
      { id: base + 1, folderId: base + 1, deletedAt: null },
      { id: base + 2, folderId: base + 1, deletedAt: deleted },
      { id: base + 3, folderId: base + 2, deletedAt: null },
    );
    for (const note of [base + 1, base + 2, base + 3]) {
      children.push({ id: note * 10 + 1, noteId: note, deletedAt: null });
      if (note === base + 1) children.push({ id: note * 10 + 2, noteId: note, deletedAt: deleted });
    }
  }
  await dataSource.getRepository(Folder).insert(folders);
  await dataSource.getRepository(Note).insert(notes);
  for (const entity of [NoteComment, Bookmark, Reaction]) await dataSource.getRepository(entity).insert(children.map((c) => ({ ...c })));
}

/** Every row of every category as the database holds it, soft-deleted ones included, by id. */
async function readDatabase(dataSource: DataSource): Promise<Rows> {
  const rows: Rows = {};
  for (const [name, { entity }] of Object.entries(CATEGORIES)) {
    const all = await dataSource.getRepository(entity).find({ withDeleted: true });
    rows[name] = new Map(all.map((r: ObjectLiteral) => [r.id, r]));
  }
  return rows;
}

/** The ids team A's archive must hold: rows of team A, alive along their whole chain unless deleted rows are asked for. */
function expectedIds(db: Rows, category: string, includeDeleted: boolean): unknown[] {
  const { chain } = CATEGORIES[category];
  return [...db[category].values()]
    .map((row) => chain(row, db))
    .filter((rows) => rows[rows.length - 1].teamId === TEAM_A && (includeDeleted || rows.every((r) => !r.deletedAt)))
    .map((rows) => rows[0].id)
    .sort();
}

describe.each(DATABASES)('includeDeleted on %s', (db) => {
  let t: TestApp;
  let rows: Rows;

  beforeAll(async () => {
    // Batches of two make every category span several batches.
    t = await createTestApp(db, { entities: [...HELP_DESK_ENTITIES, Folder, Note, NoteComment, Bookmark, Reaction], exportOptions: { batchSize: 2 } });
    await seedHelpDesk(t.dataSource);
    await seedNotes(t.dataSource);
    rows = await readDatabase(t.dataSource);
  });
  afterAll(() => t?.close());

  it.each([false, true])('with includeDeleted %s, the archive holds exactly the rows the database has for the account', async (includeDeleted) => {
    const categories = Object.keys(CATEGORIES);
    const view = await t.service.request(OWNER_A, { categories, includeDeleted });
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.error).toBeNull();
    expect(row.status).toBe(ExportStatus.Completed);
    const entries = await readZip(await downloadArchive(t, row.id, OWNER_A));
    // The next request of this suite must not wait for a slot or a cooldown.
    const q = (c: string) => t.dataSource.driver.escape(c);
    await t.dataSource.query(`UPDATE data_exports SET ${q('activeSlot')} = NULL, ${q('status')} = 'expired', ${q('completedAt')} = NULL`);

    const archived = Object.fromEntries(categories.map((c) => [c, parseNdjson(entries.get(`${c}.ndjson`)!)]));
    const ids = (category: string) => archived[category].map((r) => r.id).sort();
    expect(Object.fromEntries(categories.map((c) => [c, ids(c)]))).toEqual(Object.fromEntries(categories.map((c) => [c, expectedIds(rows, c, includeDeleted)])));
    // Every category has rows that only includeDeleted brings back.
    for (const c of categories) expect(expectedIds(rows, c, false).length).toBeLessThan(expectedIds(rows, c, true).length);
    expect(row.counts).toEqual(Object.fromEntries(categories.map((c) => [c, archived[c].length])));
    const total = categories.reduce((n, c) => n + archived[c].length, 0);
    // The progress estimate counted the rows that were then exported.
    expect(row.rowsEstimated).toBe(total);
    expect(row.rowsDone).toBe(total);
  });
});
