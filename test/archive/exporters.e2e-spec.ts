/**
 * Custom exporters: rows that come from no entity (a payment provider, a remote API) get what
 * entity rows get: the value rules, redaction by name, masks, a schema (declared or inferred),
 * counts and checksums, the filters, progress and a failure that names the category.
 */
import { Injectable, Module, Scope } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import {
  CategoryExporter,
  DataExport,
  Exporter,
  ExporterFilters,
  ExportFormat,
  ExportRegistry,
  ExportStatus,
  ExportSubject,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A, TEAM_B } from '../fixtures/help-desk.seed';
import { bootMessage } from '../utils/boot';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
/** Held in a field the exporter redacts, and in the failing exporter's error: never in an archive or an error. */
const CANARY = 'CANARY-EXPORTER-51ab';

/** A host provider the exporter depends on: the payment provider's client. */
@Injectable()
class Ledger {
  readonly calls: { subject: ExportSubject; filters: ExporterFilters }[] = [];

  invoices(accountId: string) {
    return [1, 2, 3].map((n) => ({
      id: `${accountId}-inv-${n}`,
      amountCents: 1000n * BigInt(n) + 2n ** 60n,
      issuedAt: new Date(Date.UTC(2026, 0, n, 12, 30)),
      pdf: Buffer.from(`pdf ${n}`),
      cardNumber: '4242424242424242',
      internalNote: CANARY,
      apiKey: `sk_live_${CANARY}`,
      refundedAt: null,
      lines: [{ sku: 'seat', qty: n }],
    }));
  }
}

@Exporter('billing', {
  description: 'Invoices held by the payment provider',
  order: 5,
  schema: {
    type: 'object',
    properties: { id: { type: 'string' }, amountCents: { type: 'string' }, issuedAt: { type: 'string', format: 'date-time' } },
  },
  redact: { cardNumber: { keep: 'last4' }, internalNote: true },
})
class BillingExporter implements CategoryExporter {
  constructor(private readonly ledger: Ledger) {}

  async *rows(subject: ExportSubject, filters: ExporterFilters) {
    this.ledger.calls.push({ subject, filters });
    for (const invoice of this.ledger.invoices(subject.accountId)) yield invoice;
  }

  count(subject: ExportSubject): number {
    return this.ledger.invoices(subject.accountId).length;
  }
}

/**
 * An exporter in a module of its own, without a schema (inferred from its rows), with a mask
 * function and a credential-like name that is not a secret.
 */
@Exporter('usage', { redact: { accountId: { with: (v) => String(v).toUpperCase() } }, fields: { tokenCount: { sensitive: false } } })
class UsageExporter implements CategoryExporter {
  async *rows(subject: ExportSubject) {
    for (let day = 1; day <= 40; day++) {
      yield { accountId: subject.accountId, day, seats: day % 3 === 0 ? null : day * 1.5, active: day % 2 === 0, sessionToken: 'hidden', tokenCount: day };
    }
  }
}

@Module({ providers: [UsageExporter] })
class UsageModule {}

describe.each(DATABASES)('custom exporters on %s', (db) => {
  let t: TestApp;
  let ledger: Ledger;

  beforeAll(async () => {
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      metadata: { imports: [UsageModule], providers: [Ledger, BillingExporter] },
    });
    await seedHelpDesk(t.dataSource, 2);
    ledger = t.app.get(Ledger);
  });
  afterAll(() => t?.close());

  it('puts an exporter\'s rows in the ZIP with the value rules, masks, default redaction, a declared or inferred schema, and counts', async () => {
    const view = await t.service.request(OWNER);
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.status).toBe(ExportStatus.Completed);
    expect(row.counts).toMatchObject({ billing: 3, usage: 40 });
    const files = await readZip(await downloadArchive(t, view.id, OWNER));

    const billing = parseNdjson(files.get('billing.ndjson')!);
    expect(billing[0]).toEqual({
      id: `${TEAM_A}-inv-1`,
      amountCents: (1000n + 2n ** 60n).toString(),
      issuedAt: '2026-01-01T12:30:00.000Z',
      pdf: Buffer.from('pdf 1').toString('base64'),
      cardNumber: '…4242',
      refundedAt: null,
      lines: [{ sku: 'seat', qty: 1 }],
    });
    expect(billing.map((r) => r.id)).toEqual([1, 2, 3].map((n) => `${TEAM_A}-inv-${n}`));
    for (const bytes of files.values()) expect(bytes.includes(CANARY)).toBe(false);
    // The exporter got the account's subject and no filters.
    expect(ledger.calls.at(-1)).toEqual({ subject: { kind: 'account', accountId: TEAM_A, userId: 'owner-a', requestedBy: 'owner-a' }, filters: {} });

    const usage = parseNdjson(files.get('usage.ndjson')!);
    expect(usage).toHaveLength(40);
    expect(usage[2]).toEqual({ accountId: TEAM_A.toUpperCase(), day: 3, seats: null, active: false, tokenCount: 3 });

    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    const entry = manifest.categories.find((c: { name: string }) => c.name === 'billing');
    expect(entry).toMatchObject({ rows: 3, file: 'billing.ndjson', description: 'Invoices held by the payment provider', schema: 'schemas/billing.schema.json' });
    expect(entry.sha256).toBe(createHash('sha256').update(files.get('billing.ndjson')!).digest('hex'));
    // Archive order: entity categories at order 0 first, then billing (order 5).
    expect(manifest.categories.map((c: { name: string }) => c.name).at(-1)).toBe('billing');

    const declared = JSON.parse(files.get('schemas/billing.schema.json')!.toString());
    expect(declared).toMatchObject({ $id: 'schemas/billing.schema.json', title: 'billing', properties: { issuedAt: { format: 'date-time' } } });
    expect(declared['x-inferred']).toBeUndefined();
    const inferred = JSON.parse(files.get('schemas/usage.schema.json')!.toString());
    expect(inferred).toMatchObject({
      title: 'usage',
      'x-inferred': true,
      properties: { accountId: { type: 'string' }, day: { type: 'integer' }, seats: { type: ['null', 'number'] }, active: { type: 'boolean' }, tokenCount: { type: 'integer' } },
    });
    expect(Object.keys(inferred.properties)).not.toContain('sessionToken');
  });

  it('writes the same rows into a JSON export, passes since/until through, and shows the category in the registry', async () => {
    // The account's slot is free once the last export is gone.
    await t.dataSource.getRepository(DataExport).delete({ accountId: TEAM_A });
    const since = '2026-01-02T00:00:00.000Z';
    const view = await t.service.request(OWNER, { format: ExportFormat.Json, categories: ['billing', 'usage'], since });
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const doc = JSON.parse((await downloadArchive(t, view.id, OWNER)).toString());
    expect(doc.data.billing.map((r: { cardNumber: string }) => r.cardNumber)).toEqual(['…4242', '…4242', '…4242']);
    expect(doc.data.usage).toHaveLength(40);
    expect(ledger.calls.at(-1)!.filters).toEqual({ since: new Date(since) });

    const billing = t.app.get(ExportRegistry).getCategory('billing')!;
    expect(billing).toMatchObject({ name: 'billing', filterable: true, order: 5 });
    expect(billing.fields.find((f) => f.key === 'cardNumber')?.mask).toEqual({ mode: 'last4' });
    expect(billing.omitted).toEqual([{ key: 'internalNote', reason: 'redact' }]);
  });
});

/** Fails after its first row, with row data in its message. */
@Exporter('flaky')
class FailingExporter implements CategoryExporter {
  async *rows() {
    yield { id: 1 };
    throw new Error(`upstream said ${CANARY}`);
  }
}

describe('an exporter that throws', () => {
  it('fails the export naming the category, never quoting what it threw, and frees the slot', async () => {
    const t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, metadata: { providers: [FailingExporter] } });
    try {
      await seedHelpDesk(t.dataSource, 1);
      const view = await t.service.request({ userId: 'owner-b', accountId: TEAM_B, role: 'owner' });
      const row = await waitForExport(t.dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Failed);
      expect(row.error).toBe('Export failed while reading category "flaky" (Error).');
      expect(row.error).not.toContain(CANARY);
      expect(row.activeSlot).toBeNull();
    } finally {
      await t.close();
    }
  });
});

/** Rows without end, slowly: a remote API paged through. Records when its iteration ended. */
@Exporter('stream', { description: 'A slow remote source' })
class EndlessExporter implements CategoryExporter {
  ended = false;
  async *rows() {
    try {
      for (let i = 0; ; i++) {
        yield { i, at: new Date(0) };
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      this.ended = true;
    }
  }
  count(): number {
    return 1_000_000;
  }
}

describe('an exporter whose export is cancelled', () => {
  it('reports progress against its count() and stops its iteration between rows', async () => {
    const t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      metadata: { providers: [EndlessExporter] },
      exportOptions: { batchSize: 100 },
    });
    try {
      const owner = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
      const view = await t.service.request(owner, { categories: ['stream'] });
      const repo = t.dataSource.getRepository(DataExport);
      let row = await repo.findOneByOrFail({ id: view.id });
      for (const deadline = Date.now() + 20_000; !(row.status === ExportStatus.Processing && row.rowsDone > 0); row = await repo.findOneByOrFail({ id: view.id })) {
        if (Date.now() > deadline) throw new Error(`export still ${row.status}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(row.rowsEstimated).toBe(1_000_000);
      await t.service.cancel(owner, view.id);
      const exporter = t.app.get(EndlessExporter);
      for (const deadline = Date.now() + 10_000; !exporter.ended; ) {
        if (Date.now() > deadline) throw new Error('the exporter was not stopped');
        await new Promise((r) => setTimeout(r, 20));
      }
      // The run stops at that batch and removes its partial file.
      let ended = await repo.findOneByOrFail({ id: view.id });
      for (const deadline = Date.now() + 10_000; ended.storageKey !== null; ended = await repo.findOneByOrFail({ id: view.id })) {
        if (Date.now() > deadline) throw new Error('the stopped run kept its file');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(ended.status).toBe(ExportStatus.Cancelled);
      expect(readdirSync(t.storageDir)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('exporters refused at boot', () => {
  const boot = (providers: Function[]) => bootMessage(HELP_DESK_ENTITIES, {}, providers as never[]);

  it.each([
    ['a bad name', () => { @Exporter('Billing Data') class BadName { async *rows() {} } return BadName; }, '@Exporter on BadName has an invalid category "Billing Data". Use lowercase letters, digits, "-" and "_" (it becomes a file name).'],
    ['the name of an entity category', () => { @Exporter('tickets') class TicketsAgain { async *rows() {} } return TicketsAgain; }, 'Category "tickets" is used by both Ticket and TicketsAgain. Give the @Exporter its own category name.'],
    ['no rows()', () => { @Exporter('norows') class NoRows {} return NoRows; }, '@Exporter NoRows has no rows(subject, filters) method. Implement CategoryExporter: rows() returns an async iterable of the subject\'s rows.'],
    ['request scope', () => { @Exporter('scoped') @Injectable({ scope: Scope.REQUEST }) class Scoped { async *rows() {} } return Scoped; }, '@Exporter Scoped is request-scoped (or depends on a request-scoped provider). Exports run outside any request: make it a singleton provider.'],
  ])('with %s, with the fix in the message', async (_what, make, message) => {
    expect(await boot([make()])).toBe(message);
  });
});
