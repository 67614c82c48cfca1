import { BullModule } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Column, Entity, ManyToOne, PrimaryColumn } from 'typeorm';
import {
  DATA_EXPORT_ENTITIES,
  Exportable,
  ExportModule,
  ExportModuleOptions,
  ExportRegistryError,
  InvalidExportOptionsError,
  Redact,
} from 'nestjs-data-export';
import { REDIS_URL } from '../utils/databases';
import { TEST_SECRET } from '../utils/test-app';

@Entity('boot_team')
class Team {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

@Exportable({ category: 'teams', scope: 'teamId' })
@Entity('boot_dup_a')
class DuplicateA {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

@Exportable({ category: 'teams', scope: 'teamId' })
@Entity('boot_dup_b')
class DuplicateB {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

@Exportable({ category: 'bad-column', scope: 'accountUuid' })
@Entity('boot_bad_column')
class UnknownScopeColumn {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

@Exportable({ category: 'bad-relation', scope: 'owner.teamId' })
@Entity('boot_bad_relation')
class UnknownScopeRelation {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) ownerId: string;
}

@Exportable({ category: 'bad-relation-column', scope: 'team.accountUuid' })
@Entity('boot_bad_relation_column')
class UnknownRelationColumn {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @ManyToOne(() => Team) team: Team;
}

@Exportable({ category: 'not-a-column', scope: 'teamId' })
@Entity('boot_not_column')
class RedactOnNonColumn {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
  @Redact() displayName?: string;
}

@Exportable({ category: 'bad-timestamp', scope: 'teamId', timestamp: 'createdOn' })
@Entity('boot_bad_timestamp')
class UnknownTimestamp {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

@Exportable({ category: 'Bad Name/..', scope: 'teamId' })
@Entity('boot_bad_name')
class BadCategoryName {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar' }) teamId: string;
}

async function boot(entities: Function[], options: Partial<ExportModuleOptions> = {}, withDataExport = true) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        synchronize: true,
        entities: [...entities, ...(withDataExport ? DATA_EXPORT_ENTITIES : [])],
      }),
      BullModule.forRoot({ url: REDIS_URL }),
      ExportModule.forRoot({ secret: TEST_SECRET, worker: false, ...options } as ExportModuleOptions),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

describe('ExportModule refuses to boot on a misconfiguration', () => {
  it.each([
    ['a duplicate category', [DuplicateA, DuplicateB], /category "teams" is used by both DuplicateA and DuplicateB/],
    ['an unknown scope column', [UnknownScopeColumn], /UnknownScopeColumn: scope "accountUuid" is not a column/],
    ['an unknown scope relation', [UnknownScopeRelation], /UnknownScopeRelation: scope "owner.teamId" names "owner", which is not a relation of UnknownScopeRelation/],
    ['an unknown column at the end of a relation path', [Team, UnknownRelationColumn], /UnknownRelationColumn \(via Team\): scope "team.accountUuid" is not a column/],
    ['@Redact on a property that is not a column', [RedactOnNonColumn], /@Redact\(\) on RedactOnNonColumn.displayName: "displayName" is not a TypeORM column/],
    ['an unknown timestamp column', [UnknownTimestamp], /UnknownTimestamp: timestamp "createdOn" is not a column/],
    ['a category that is not a safe file name', [BadCategoryName], /BadCategoryName has an invalid category "Bad Name\/.."/],
  ])('%s', async (_what, entities, message) => {
    const error = await boot(entities).catch((e) => e);
    expect(error).toBeInstanceOf(ExportRegistryError);
    expect(error.message).toMatch(message);
  });

  it('a DataSource without the DataExport entity', async () => {
    const error = await boot([Team], {}, false).catch((e) => e);
    expect(error).toBeInstanceOf(ExportRegistryError);
    expect(error.message).toMatch(/DATA_EXPORT_ENTITIES/);
  });

  it('boots with a valid configuration', async () => {
    await expect(boot([Team])).resolves.toBeUndefined();
  });
});

describe('ExportModule validates its options at boot', () => {
  it.each([
    ['a missing secret', { secret: undefined }, /option "secret" is missing/],
    ['a short secret', { secret: 'too-short' }, /option "secret" is too short \(9 characters\)/],
    ['a bad duration', { downloadTtl: '24 hours' as never }, /option "downloadTtl" is not a valid duration: "24 hours"/],
    ['a negative duration', { cooldown: -5 }, /option "cooldown" is not a valid duration: -5/],
    ['a bad confirmation ttl', { confirmation: { ttl: 'soon' as never } }, /option "confirmation.ttl" is not a valid duration/],
    ['a zero batch size', { batchSize: 0 }, /option "batchSize" must be an integer from 1/],
    ['a compression level out of range', { compressionLevel: 11 }, /option "compressionLevel" must be an integer from 0 to 9; got 11/],
    ['an unknown storage', { storage: { bucket: 'x' } as never }, /option "storage" is not an ExportStorage: Object/],
  ])('%s', async (_what, options, message) => {
    const error = await boot([Team], options as Partial<ExportModuleOptions>).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidExportOptionsError);
    expect(error.message).toMatch(message);
    // A message about the secret never quotes the secret itself.
    expect(error.message).not.toContain('too-short');
  });

  it('validates options returned by forRootAsync the same way', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', synchronize: true, entities: [Team, ...DATA_EXPORT_ENTITIES] }),
        BullModule.forRoot({ url: REDIS_URL }),
        ExportModule.forRootAsync({ useFactory: async () => ({ secret: TEST_SECRET, batchSize: -1 }), worker: false }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toThrow(/option "batchSize" must be an integer/);
  });
});
