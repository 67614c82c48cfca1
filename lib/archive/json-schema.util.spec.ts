import 'reflect-metadata';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { Exportable } from '../metadata/exportable.decorator';
import { Redact } from '../metadata/redact.decorator';
import { DataExport } from '../entities/data-export.entity';
import { ExportMetadataAccessor } from '../metadata/export-metadata.accessor';
import { ExportExplorer } from '../metadata/export.explorer';
import { ExportRegistry } from '../metadata/export.registry';
import { buildCategorySchema } from './json-schema.util';

@Exportable({ category: 'tickets', scope: 'teamId' })
@Entity('schema_spec_tickets')
class Ticket {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'simple-json' }) tags: string[];
  @Column({ type: 'simple-json', nullable: true }) watchers: string[] | null;
  @Column({ type: 'simple-json', nullable: true }) customFields: Record<string, unknown> | null;
  @Column({ type: 'simple-array' }) labels: string[];
}

@Exportable({ category: 'members', scope: 'teamId' })
@Entity('schema_spec_members')
class Member {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  /** Exported masked: the last octet is zeroed. */
  @Redact({ with: (ip) => (typeof ip === 'string' ? ip.replace(/\.\d+$/, '.0') : null) })
  @Column({ type: 'varchar', length: 64, nullable: true })
  lastSignInIp: string | null;
  @Redact({ with: (n) => (typeof n === 'number' ? Math.round(n / 10) * 10 : null) })
  @Column({ type: 'integer' })
  seats: number;
}

describe('buildCategorySchema', () => {
  let dataSource: DataSource;
  let schemas: Record<string, { properties: Record<string, Record<string, unknown>> }>;
  const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));

  beforeAll(async () => {
    dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [Ticket, Member, DataExport] }).initialize();
    const categories = new ExportExplorer(dataSource, new ExportMetadataAccessor(), new ExportRegistry()).explore();
    schemas = Object.fromEntries(categories.map((c) => [c.name, buildCategorySchema(c) as never]));
  });
  afterAll(() => dataSource?.destroy());

  it('types a JSON column from its property type: string[] is an array', () => {
    const { properties } = schemas.tickets;
    expect(properties.tags).toEqual({ type: 'array' });
    expect(properties.labels).toEqual({ type: 'array', items: { type: 'string' } });
    // TypeScript emits Object for a record (like unknown or any), and for `string[] | null`
    // under strictNullChecks: nothing is known at run time, so any JSON value.
    expect(properties.customFields).toEqual({});
    expect(properties.watchers).toEqual({});
  });

  it('gives a field masked by a function its column type, or null', () => {
    const { properties } = schemas.members;
    expect(properties.lastSignInIp).toEqual({ description: 'Masked by a custom function.', type: ['string', 'null'] });
    expect(properties.seats).toEqual({ description: 'Masked by a custom function.', type: ['integer', 'null'] });
  });

  it('accepts the rows the archive writes and refuses other types', () => {
    const tickets = ajv.compile(schemas.tickets);
    const row = { id: 't1', teamId: 'a', tags: ['vip'], watchers: null, customFields: { plan: 'pro' }, labels: ['x', 'y'] };
    expect(tickets(row)).toBe(true);
    expect(tickets({ ...row, tags: 'vip' })).toBe(false);
    expect(tickets({ ...row, labels: [1] })).toBe(false);

    const members = ajv.compile(schemas.members);
    expect(members({ id: 'm1', teamId: 'a', lastSignInIp: '10.0.0.0', seats: 10 })).toBe(true);
    expect(members({ id: 'm1', teamId: 'a', lastSignInIp: null, seats: null })).toBe(true);
    expect(members({ id: 'm1', teamId: 'a', lastSignInIp: 42, seats: 10 })).toBe(false);
  });
});
