import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import {
  Column,
  DataSource,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  ChildEntity,
  TableInheritance,
  ViewColumn,
  ViewEntity,
} from 'typeorm';
import { Exportable, ExportableOptions } from './exportable.decorator';
import { ExportField, Redact } from './redact.decorator';
import { DataExport } from '../entities/data-export.entity';
import { ExportRegistryError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import { ExportMetadataAccessor } from './export-metadata.accessor';
import { ExportExplorer } from './export.explorer';
import { ExportRegistry } from './export.registry';

/**
 * Builds TypeORM's entity metadata for `entities` without opening a database: a DataSource that
 * is never initialized, whose (protected) `buildMetadatas()` runs the same builder and validator
 * as `initialize()` does after connecting. Then the explorer runs on it with the real accessor
 * and registry.
 */
async function explorerOf(entities: Function[], { withDataExport = true } = {}) {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: withDataExport ? [DataExport, ...entities] : entities,
  });
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  const registry = new ExportRegistry();
  const explorer = new ExportExplorer(dataSource, new ExportMetadataAccessor(), registry);
  return { dataSource, explorer, registry };
}

/** The error `fn` throws (fails the test when it throws none). */
function refusal(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal, got none');
}

/** Asserts that booting the explorer over `entities` refuses with exactly `message`. */
async function expectBootRefusal(entities: Function[], message: string): Promise<void> {
  const { explorer, registry } = await explorerOf(entities);
  const err = refusal(() => explorer.onModuleInit());
  expect(err).toBeInstanceOf(ExportRegistryError);
  expect(err.name).toBe('ExportRegistryError');
  expect(err.message).toBe(message);
  expect(registry.getEntityCategories()).toEqual([]);
}

/** A fresh `@Exportable` entity `name` with `id`, `teamId`, `createdAt` (and a `team_id`-named column). */
function entityWith(name: string, options: Partial<ExportableOptions>): Function {
  @Exportable(options as ExportableOptions)
  @Entity({ name: name.toLowerCase() })
  class Generated {
    @PrimaryGeneratedColumn() id!: number;
    @Column() teamId!: string;
    @Column({ name: 'owner_team' }) ownerTeam!: string;
    @Column() createdAt!: Date;
  }
  Object.defineProperty(Generated, 'name', { value: name });
  return Generated;
}

describe('ExportExplorer', () => {
  let log: jest.SpyInstance;
  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  it('builds its metadata without connecting', async () => {
    const { dataSource } = await explorerOf([entityWith('Probe', { category: 'probe', scope: 'teamId' })]);
    expect(dataSource.isInitialized).toBe(false);
    expect(dataSource.entityMetadatas.map((m) => m.name)).toEqual(['DataExport', 'Probe']);
  });

  describe('what it registers', () => {
    @Entity()
    class Team {
      @PrimaryColumn() id!: string;
      @Column() name!: string;
    }

    @Exportable({ category: 'tickets', scope: 'teamId', timestamp: 'createdAt', description: 'Tickets', order: 2 })
    @Entity()
    class Ticket {
      @PrimaryGeneratedColumn() id!: number;
      @Column() teamId!: string;
      @Column() subject!: string;
      @Column() createdAt!: Date;
      @OneToMany(() => Message, (m) => m.ticket) messages!: Message[];
    }

    const mask = (v: unknown) => String(v).replace(/\.\d+$/, '.0');

    @Exportable({ category: 'messages', scope: 'ticket.teamId', order: 1 })
    @Entity()
    class Message {
      @PrimaryGeneratedColumn() id!: number;
      @ManyToOne(() => Ticket, (t) => t.messages) @JoinColumn({ name: 'ticketId' }) ticket!: Ticket;
      @Column() body!: string;
      @Redact({ with: mask }) @Column() authorIp!: string;
      @Redact({ keep: 'last4' }) @Column() apiKey!: string;
      @Redact() @Column() internalNote!: string;
      @Column() passwordHash!: string;
      @ExportField({ sensitive: false }) @Column() tokenCount!: number;
      @Column({ name: 'refresh_token' }) refresh!: string;
    }

    const byFn = (qb: any) => qb;

    @Exportable({ category: 'webhooks', scope: byFn })
    @Entity()
    class Webhook {
      @PrimaryGeneratedColumn() id!: number;
      @Column() url!: string;
    }

    // Not decorated: it is in the DataSource but not part of the export.
    @Entity()
    class AuditLog {
      @PrimaryGeneratedColumn() id!: number;
    }

    it('fills the registry with every @Exportable entity, by order then name', async () => {
      const { explorer, registry } = await explorerOf([Team, Ticket, Message, Webhook, AuditLog]);
      explorer.onModuleInit();
      expect(registry.getCategoryNames()).toEqual(['webhooks', 'messages', 'tickets']);
      expect(registry.getEntityCategory('tickets')).toMatchObject({ target: Ticket, description: 'Tickets', order: 2 });
      expect(registry.getEntityCategory('webhooks')!.order).toBe(0);
    });

    it('resolves a column, a relation path and a function scope, and the timestamp column', async () => {
      const { explorer, registry } = await explorerOf([Team, Ticket, Message, Webhook]);
      explorer.onModuleInit();

      const tickets = registry.getEntityCategory('tickets')!;
      expect(tickets.scope).toMatchObject({ kind: 'column', column: { propertyPath: 'teamId' } });
      expect(tickets.timestamp?.propertyPath).toBe('createdAt');

      const messages = registry.getEntityCategory('messages')!;
      expect(messages.scope).toMatchObject({ kind: 'relation', path: ['ticket'] });
      const scope = messages.scope as { column: { propertyPath: string; entityMetadata: { name: string } } };
      expect(scope.column.propertyPath).toBe('teamId');
      expect(scope.column.entityMetadata.name).toBe('Ticket');
      expect(messages.timestamp).toBeUndefined();

      expect(registry.getEntityCategory('webhooks')!.scope).toEqual({ kind: 'fn', fn: byFn });
    });

    it('plans the fields: masks, omissions by @Redact() and by name, opt-ins, a join column by its name', async () => {
      const { explorer, registry } = await explorerOf([Team, Ticket, Message]);
      explorer.onModuleInit();
      const messages = registry.getEntityCategory('messages')!;

      expect(messages.fields.map((f) => [f.key, f.mask])).toEqual([
        ['id', undefined],
        ['body', undefined],
        ['authorIp', { mode: 'fn', fn: mask }],
        ['apiKey', { mode: 'last4' }],
        ['tokenCount', undefined],
        ['ticketId', undefined],
      ]);
      expect(messages.omitted).toEqual([
        { key: 'internalNote', reason: 'redact' },
        { key: 'passwordHash', reason: 'sensitive-name' },
        { key: 'refresh', reason: 'sensitive-name' },
      ]);
    });

    it('logs the fields redacted by name, as Entity.field and nothing more', async () => {
      const { explorer } = await explorerOf([Team, Ticket, Message]);
      explorer.onModuleInit();
      expect(log).toHaveBeenCalledTimes(1);
      expect(log.mock.calls[0][0]).toBe(
        'Redacted by name (opt a field in with @ExportField({ sensitive: false })): Message.passwordHash, Message.refresh',
      );
    });

    it('finds a scope or timestamp column by its database name too', async () => {
      const { explorer, registry } = await explorerOf([
        entityWith('ByDbName', { category: 'by-db-name', scope: 'owner_team', timestamp: 'createdAt' }),
      ]);
      explorer.onModuleInit();
      expect(registry.getEntityCategory('by-db-name')!.scope).toMatchObject({ kind: 'column', column: { propertyPath: 'ownerTeam' } });
    });

    it('accepts every category name that is a safe file name, up to 64 characters', async () => {
      const names = ['a', '0', 'a_b-1', 'x'.repeat(64)];
      const { explorer, registry } = await explorerOf(names.map((category, i) => entityWith(`Ok${i}`, { category, scope: 'teamId' })));
      explorer.onModuleInit();
      expect([...registry.getCategoryNames()].sort()).toEqual([...names].sort());
    });

    it('skips an @Exportable class that is not an entity of the DataSource (no refusal)', async () => {
      // The explorer sees the DataSource's entities only: a class of another DataSource is not its concern.
      @Exportable({ category: 'orphans', scope: 'teamId' })
      class Orphan {}
      const { explorer, registry, dataSource } = await explorerOf([Team, Ticket, Message, Orphan]);
      explorer.onModuleInit();
      expect(dataSource.hasMetadata(Orphan)).toBe(false);
      expect(registry.getCategoryNames()).toEqual(['messages', 'tickets']);
    });
  });

  describe('refusals at boot, each with its message', () => {
    it('a DataSource without the DataExport entity', async () => {
      const { explorer } = await explorerOf([entityWith('Lonely', { category: 'lonely', scope: 'teamId' })], {
        withDataExport: false,
      });
      const err = refusal(() => explorer.onModuleInit());
      expect(err).toBeInstanceOf(ExportRegistryError);
      expect(err.message).toBe(ExportMessages.missingDataExportEntity());
      expect(err.message).toContain('DATA_EXPORT_ENTITIES');
    });

    it('two entities with the same category, naming both', async () => {
      const first = entityWith('Ticket', { category: 'tickets', scope: 'teamId' });
      const second = entityWith('LegacyTicket', { category: 'tickets', scope: 'teamId' });
      await expectBootRefusal([first, second], ExportMessages.duplicateCategory('tickets', 'Ticket', 'LegacyTicket'));
      await expectBootRefusal(
        [first, second],
        '@Exportable category "tickets" is used by both Ticket and LegacyTicket. Give each entity its own category.',
      );
    });

    it.each<[string, unknown]>([
      ['uppercase', 'Tickets'],
      ['a space', 'my tickets'],
      ['a path', '../tickets'],
      ['a dot', 'tickets.v2'],
      ['a leading dash', '-tickets'],
      ['a leading underscore', '_tickets'],
      ['empty', ''],
      ['65 characters', 'x'.repeat(65)],
      ['not a string', 42],
      ['missing', undefined],
    ])('a category name that is not a safe file name (%s)', async (_what, category) => {
      await expectBootRefusal(
        [entityWith('Ticket', { category: category as string, scope: 'teamId' })],
        ExportMessages.badCategoryName('Ticket', category),
      );
    });

    it('an entity without a primary key (a view)', async () => {
      @Exportable({ category: 'team-stats', scope: 'teamId' })
      @ViewEntity({ name: 'team_stats', expression: 'SELECT 1 AS teamId' })
      class TeamStat {
        @ViewColumn() teamId!: string;
      }
      await expectBootRefusal([TeamStat], ExportMessages.noPrimaryKey('TeamStat'));
    });

    it('a timestamp that is not a column', async () => {
      await expectBootRefusal(
        [entityWith('Ticket', { category: 'tickets', scope: 'teamId', timestamp: 'openedAt' })],
        ExportMessages.unknownTimestamp('Ticket', 'openedAt'),
      );
    });

    it.each<[string, unknown]>([
      ['missing', undefined],
      ['empty', ''],
      ['not a string or function', 42],
    ])('a scope that is %s', async (_what, scope) => {
      await expectBootRefusal(
        [entityWith('Ticket', { category: 'tickets', scope: scope as string })],
        ExportMessages.missingScope('Ticket'),
      );
    });

    it('a scope column that is not a column of the entity', async () => {
      await expectBootRefusal(
        [entityWith('Ticket', { category: 'tickets', scope: 'accountId' })],
        ExportMessages.unknownScopeColumn('Ticket', 'accountId'),
      );
    });

    describe('relation paths', () => {
      @Entity({ name: 'rp_team' })
      class RpTeam {
        @PrimaryColumn() id!: string;
        @Column() region!: string;
      }

      @Entity({ name: 'rp_ticket' })
      class RpTicket {
        @PrimaryGeneratedColumn() id!: number;
        @Column() teamId!: string;
        @ManyToOne(() => RpTeam) team!: RpTeam;
      }

      function messageScopedBy(scope: string): Function {
        @Exportable({ category: 'messages', scope })
        @Entity({ name: 'rp_message' })
        class RpMessage {
          @PrimaryGeneratedColumn() id!: number;
          @Column() authorId!: string;
          @ManyToOne(() => RpTicket) ticket!: RpTicket;
        }
        return RpMessage;
      }

      it('accept a path of two relations ending in a column', async () => {
        const { explorer, registry } = await explorerOf([RpTeam, RpTicket, messageScopedBy('ticket.team.region')]);
        explorer.onModuleInit();
        expect(registry.getEntityCategory('messages')!.scope).toMatchObject({
          kind: 'relation',
          path: ['ticket', 'team'],
          column: { propertyPath: 'region' },
        });
      });

      it('refuse a first segment that is a column, not a relation', async () => {
        await expectBootRefusal(
          [RpTeam, RpTicket, messageScopedBy('authorId.teamId')],
          ExportMessages.unknownScopeRelation('RpMessage', 'authorId.teamId', 'authorId', 'RpMessage'),
        );
      });

      it('refuse a later segment that is not a relation of the entity reached', async () => {
        await expectBootRefusal(
          [RpTeam, RpTicket, messageScopedBy('ticket.owner.teamId')],
          ExportMessages.unknownScopeRelation('RpMessage', 'ticket.owner.teamId', 'owner', 'RpTicket'),
        );
      });

      it('refuse a last segment that is not a column of the entity reached', async () => {
        await expectBootRefusal(
          [RpTeam, RpTicket, messageScopedBy('ticket.accountId')],
          ExportMessages.unknownScopeColumn('RpMessage (via RpTicket)', 'ticket.accountId'),
        );
      });
    });

    it('@Redact() on a property that is not a column', async () => {
      @Exportable({ category: 'members', scope: 'teamId' })
      @Entity()
      class Member {
        @PrimaryGeneratedColumn() id!: number;
        @Column() teamId!: string;
        @Redact() nickname!: string;
      }
      await expectBootRefusal([Member], ExportMessages.fieldNotColumn('Member', 'nickname', '@Redact()'));
    });

    it('@ExportField() on a property that is not a column', async () => {
      @Exportable({ category: 'members', scope: 'teamId' })
      @Entity()
      class Member {
        @PrimaryGeneratedColumn() id!: number;
        @Column() teamId!: string;
        @ExportField({ sensitive: false }) tokenCount!: number;
      }
      await expectBootRefusal([Member], ExportMessages.fieldNotColumn('Member', 'tokenCount', '@ExportField()'));
    });

    it('@Redact() on a relation property', async () => {
      @Entity({ name: 'rr_ticket' })
      class RrTicket {
        @PrimaryGeneratedColumn() id!: number;
        @Column() teamId!: string;
      }
      @Exportable({ category: 'messages', scope: 'ticket.teamId' })
      @Entity({ name: 'rr_message' })
      class RrMessage {
        @PrimaryGeneratedColumn() id!: number;
        @Redact() @ManyToOne(() => RrTicket) ticket!: RrTicket;
      }
      await expectBootRefusal([RrTicket, RrMessage], ExportMessages.fieldNotColumn('RrMessage', 'ticket', '@Redact()'));
    });
  });

  it('boots single-table inheritance with one category: a @ChildEntity() does not claim its parent\'s', async () => {
    @Exportable({ category: 'people', scope: 'teamId' })
    @Entity('sti_people')
    @TableInheritance({ column: { type: 'varchar', name: 'kind' } })
    class Person {
      @PrimaryGeneratedColumn() id!: number;
      @Column() teamId!: string;
      @Column() name!: string;
    }
    @ChildEntity()
    class Staff extends Person {
      @Column({ nullable: true }) desk!: string;
    }
    const { explorer, registry } = await explorerOf([Person, Staff]);
    explorer.onModuleInit();
    expect(registry.getEntityCategories().map((c) => [c.name, c.target])).toEqual([['people', Person]]);
  });
});
