/**
 * The estimate: rows per category and the archive's approximate size before an export is
 * requested, from index counts or the planner, through the export's own query (scopes,
 * relations, since/until, includeDeleted): compared with the manifest of a real export of the
 * same filters.
 */
import { Injectable } from '@nestjs/common';
import request from 'supertest';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CategoryExporter, DataExport, Exportable, Exporter, ExportEstimate, ExportFormat, ExportStatus, ExportSubject, RequestExportInput } from 'nestjs-data-export';
import { ESTIMATE_LIMITS } from '../../lib/source/entity-estimate.util';
import { DATABASES } from '../utils/databases';
import { fakeAuth } from '../utils/fake-auth';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const OWNER_HEADER = 'owner-a:team-a:owner';

/** An exporter that can say how many rows it has. */
@Exporter('invoices', { order: 8 })
@Injectable()
class InvoiceExporter implements CategoryExporter {
  async *rows(subject: ExportSubject) {
    for (let n = 0; n < 7; n++) yield { id: `${subject.accountId}-${n}`, amount: n * 100 };
  }
  count(): number {
    return 7;
  }
}

/** One that cannot. */
@Exporter('activity', { order: 9 })
@Injectable()
class ActivityExporter implements CategoryExporter {
  async *rows() {
    yield { at: new Date(0), what: 'signed in' };
  }
}

/** A column-scoped table with thousands of rows, for the planner's path. */
@Exportable({ category: 'events', scope: 'teamId', timestamp: 'createdAt', order: 7 })
@Entity('est_events')
@Index(['teamId', 'id'])
class EstimateEvent {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Column({ type: 'varchar', length: 120 }) label: string;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

const EVENTS_A = 6000;
const EVENTS_B = 1500;
const EVENTS_START = Date.UTC(2026, 2, 1);

async function seedEvents(t: TestApp): Promise<void> {
  const rows = Array.from({ length: EVENTS_A + EVENTS_B }, (_, i) => ({
    id: i + 1,
    // Interleaved: the other account's rows sit among team A's.
    teamId: i % 5 === 4 ? 'team-b' : TEAM_A,
    label: `event ${i} of a fairly ordinary length`,
    createdAt: new Date(EVENTS_START + i * 60_000),
  }));
  for (let i = 0; i < rows.length; i += 500) await t.dataSource.getRepository(EstimateEvent).insert(rows.slice(i, i + 500));
}

/** Team A's rows of every category in the manifest of a real export with these filters. */
async function exported(t: TestApp, input: RequestExportInput): Promise<{ counts: Record<string, number>; size: number }> {
  await t.dataSource.getRepository(DataExport).delete({ accountId: TEAM_A });
  const view = await t.service.request(OWNER, input);
  const row = await waitForExport(t.dataSource, view.id);
  expect(row.status).toBe(ExportStatus.Completed);
  const archive = await downloadArchive(t, view.id, OWNER);
  if ((input.format ?? 'zip') === 'zip') {
    const manifest = JSON.parse((await readZip(archive)).get('manifest.json')!.toString());
    expect(manifest.summary.byCategory).toEqual(row.counts);
  }
  return { counts: row.counts as Record<string, number>, size: archive.length };
}

describe.each(DATABASES)('estimate on %s', (db) => {
  let t: TestApp;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: [...HELP_DESK_ENTITIES, EstimateEvent],
      configure: fakeAuth,
      metadata: { providers: [InvoiceExporter, ActivityExporter] },
    });
    await seedHelpDesk(t.dataSource, 12);
    await seedEvents(t);
    http = request(t.app.getHttpServer());
  });
  afterAll(() => t?.close());
  afterEach(() => Object.assign(ESTIMATE_LIMITS, { exactCountBelow: 200_000, countBudgetMs: 1200 }));

  const cases: [string, RequestExportInput, string][] = [
    ['every category', {}, ''],
    ['some categories (repeated and comma-listed)', { categories: ['tickets', 'messages', 'events'] }, 'categories=tickets&categories=messages,events'],
    ['since and until', { since: '2026-01-10T12:00:00.000Z', until: '2026-03-02T00:00:00.000Z' }, 'since=2026-01-10T12:00:00.000Z&until=2026-03-02T00:00:00.000Z'],
    ['deleted rows included', { includeDeleted: true, categories: ['tickets', 'messages'] }, 'includeDeleted=true&categories=tickets,messages'],
  ];

  it.each(cases)('counts what an export holds exactly, for %s', async (_label, input, query) => {
    const res = await http.get(`/exports/estimate${query ? `?${query}` : ''}`).set('x-user', OWNER_HEADER).expect(200);
    const estimate = res.body as ExportEstimate;
    const { counts, size } = await exported(t, { ...input, categories: input.categories ?? undefined });
    for (const [name, rows] of Object.entries(counts)) {
      if (name === 'activity') continue;
      if (name === 'invoices') {
        // The exporter's own count: not checked by the library, so not "exact".
        expect(estimate.categories.invoices).toMatchObject({ rows: 7, exact: false });
        continue;
      }
      expect({ name, ...estimate.categories[name] }).toMatchObject({ name, rows, exact: true });
    }
    expect(Object.keys(estimate.categories)).toEqual(Object.keys(counts));
    if (estimate.categories.activity) expect(estimate.categories.activity).toEqual({ rows: null, exact: false, bytes: null });
    const known = Object.entries(counts).filter(([n]) => n !== 'activity').reduce((n, [, r]) => n + r, 0);
    expect(estimate.rows).toBe(known);
    expect(estimate.exact).toBe(false === Object.keys(counts).some((n) => n === 'activity' || n === 'invoices'));
    // Approximate: how well rows compress depends on them (these repeat themselves a lot), so a
    // ZIP's estimate is only within a factor of four (the JSON document's below is closer).
    expect(estimate.bytes).toBeGreaterThan(size / 4);
    expect(estimate.bytes).toBeLessThan(size * 4);
  });

  it('estimates a JSON document\'s size, and answers ExportService.estimate() as the endpoint does', async () => {
    const input = { format: ExportFormat.Json, categories: ['events', 'customers'] };
    const estimate = await t.service.estimate(OWNER, input);
    const { counts, size } = await exported(t, input);
    expect(estimate).toMatchObject({ format: 'json', rows: counts.events + counts.customers, exact: true });
    expect(estimate.bytes).toBeGreaterThan(size * 0.75);
    expect(estimate.bytes).toBeLessThan(size * 1.25);
    const viaHttp = await http.get('/exports/estimate?format=json&categories=events,customers').set('x-user', OWNER_HEADER).expect(200);
    expect(viaHttp.body).toEqual(estimate);
  });

  if (db === 'postgres') {
    it('counts a large category exactly while the time lasts', async () => {
      ESTIMATE_LIMITS.exactCountBelow = 1000;
      const estimate = await t.service.estimate(OWNER, { categories: ['events'] });
      expect(estimate.categories.events).toMatchObject({ rows: EVENTS_A, exact: true });
    });

    it("uses the planner's estimate above the exact-count limit, within 10 % of the truth (since included)", async () => {
      await t.dataSource.query('ANALYZE "est_events"');
      // Large for the estimate, and no time left to count it.
      Object.assign(ESTIMATE_LIMITS, { exactCountBelow: 1000, countBudgetMs: 0 });
      const since = new Date(EVENTS_START + 3000 * 60_000).toISOString();
      const all = await t.service.estimate(OWNER, { categories: ['events', 'customers'] });
      const later = await t.service.estimate(OWNER, { categories: ['events'], since });
      expect(all.categories.events.exact).toBe(false);
      expect(all.categories.customers).toMatchObject({ rows: 4, exact: true });
      expect(all.exact).toBe(false);
      const truth = (await exported(t, { categories: ['events'] })).counts.events;
      const laterTruth = (await exported(t, { categories: ['events'], since })).counts.events;
      expect(truth).toBe(EVENTS_A);
      expect(Math.abs(all.categories.events.rows! - truth) / truth).toBeLessThan(0.1);
      expect(later.categories.events.exact).toBe(false);
      expect(Math.abs(later.categories.events.rows! - laterTruth) / laterTruth).toBeLessThan(0.1);
    });
  }

  if (db === 'mariadb') {
    it('counts a large category through the index while the time lasts, else gives the optimizer\'s figure', async () => {
      ESTIMATE_LIMITS.exactCountBelow = 1000;
      const counted = await t.service.estimate(OWNER, { categories: ['events'] });
      expect(counted.categories.events).toMatchObject({ rows: EVENTS_A, exact: true });
      ESTIMATE_LIMITS.countBudgetMs = 0;
      const planned = await t.service.estimate(OWNER, { categories: ['events', 'customers'] });
      expect(planned.categories.events.exact).toBe(false);
      expect(planned.categories.events.rows).toBeGreaterThan(0);
      expect(planned.categories.customers).toMatchObject({ rows: 4, exact: true });
    });
  }

  it('refuses a bad query with 400 EXPORT_INVALID_REQUEST, naming what is wrong', async () => {
    const bad: [string, RegExp][] = [
      ['categories=tickets,nope', /Unknown categories: "nope"/],
      ['categories=', /non-empty list/],
      ['since=yesterday', /"since" must be an ISO-8601 date/],
      ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', /"since" must be before "until"/],
      ['includeDeleted=yes', /includeDeleted must be true or false/],
      ['format=xml', /format must be/],
      ['format=zip&format=json', /format must be given once/],
      ['accountId=team-b', /Unknown query parameter "accountId"/],
    ];
    for (const [query, message] of bad) {
      const res = await http.get(`/exports/estimate?${query}`).set('x-user', OWNER_HEADER);
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: 'EXPORT_INVALID_REQUEST' });
      expect(res.body.message).toMatch(message);
    }
    await expect(t.service.estimate(OWNER, { categories: ['nope'] })).rejects.toMatchObject({ code: 'EXPORT_INVALID_REQUEST' });
  });

  it('follows the request rules: 401 without a principal, 403 for a role that may not export', async () => {
    const anonymous = await http.get('/exports/estimate').expect(401);
    expect(anonymous.body.code).toBe('EXPORT_UNAUTHENTICATED');
    const agent = await http.get('/exports/estimate').set('x-user', 'agent-a:team-a:agent').expect(403);
    expect(agent.body.code).toBe('EXPORT_FORBIDDEN');
    await expect(t.service.estimate(null)).rejects.toMatchObject({ code: 'EXPORT_UNAUTHENTICATED' });
  });
});

/** A remote source whose count never answers, and one whose count fails. */
@Exporter('remote', { order: 10 })
@Injectable()
class SlowCountExporter implements CategoryExporter {
  async *rows() {
    yield { id: 1 };
  }
  count(): Promise<number> {
    return new Promise(() => undefined);
  }
}
@Exporter('broken', { order: 11 })
@Injectable()
class FailingCountExporter implements CategoryExporter {
  async *rows() {
    yield { id: 1 };
  }
  async count(): Promise<number> {
    throw new Error('upstream down');
  }
}

describe('the estimate with exporters whose count does not answer', () => {
  it('reports their rows as unknown within the time bound, beside the counted categories', async () => {
    const t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, metadata: { providers: [SlowCountExporter, FailingCountExporter] } });
    try {
      await seedHelpDesk(t.dataSource, 3);
      const started = Date.now();
      const estimate = await t.service.estimate(OWNER, {});
      expect(Date.now() - started).toBeLessThan(2500);
      expect(estimate.categories.remote).toEqual({ rows: null, exact: false, bytes: null });
      expect(estimate.categories.broken).toEqual({ rows: null, exact: false, bytes: null });
      expect(estimate.categories.tickets).toMatchObject({ rows: 2, exact: true });
      expect(estimate.exact).toBe(false);
    } finally {
      await t.close();
    }
  });
});
