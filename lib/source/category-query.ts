import type { DataSource, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ExportFilters } from '../entities/data-export.entity';
import type { ColumnMetadata, EntityCategory } from '../metadata/export-category.interface';
import type { ExportSubject } from '../interfaces/export-principal.interface';

const ALIAS = 'x';
const SQLITE_BIGINT = new Set(['bigint', 'int8', 'unsigned big int']);
const SQLITE_TYPES = new Set(['sqlite', 'better-sqlite3', 'sqljs', 'capacitor', 'cordova', 'expo', 'nativescript', 'react-native']);

/**
 * The one query of an entity category, shared by every dialect: the category's rows that belong
 * to the subject's account (its scope), within the filters, with the exported columns selected
 * as `f0…fn` and the primary key as `k0…kn`, ordered by the primary key.
 * @internal
 */
export class CategoryQuery {
  constructor(
    private readonly dataSource: DataSource,
    private readonly subject: ExportSubject,
    private readonly filters: ExportFilters,
  ) {}

  /** The scoped, filtered rows, selected and ordered; on `runner` (the snapshot's connection). */
  select(category: EntityCategory, runner: QueryRunner): SelectQueryBuilder<ObjectLiteral> {
    const qb = this.scoped(category, runner);
    qb.select([]);
    category.fields.forEach((f, i) => qb.addSelect(this.selectExpression(f.column), `f${i}`));
    category.metadata.primaryColumns.forEach((c, i) => {
      qb.addSelect(this.selectExpression(c), `k${i}`);
      qb.addOrderBy(this.column(c.databaseName), 'ASC');
    });
    return qb;
  }

  /** The scoped, filtered rows, as the entity's query builder has them (for counts). */
  scoped(category: EntityCategory, runner: QueryRunner): SelectQueryBuilder<ObjectLiteral> {
    const qb = this.dataSource.createQueryBuilder(category.target, ALIAS, runner);
    // Before any join: TypeORM writes a joined entity's soft-delete condition into the join
    // when the join is added, so withDeleted() called later leaves it there. A sub-query that a
    // scope function builds is a builder of its own and gets the same setting.
    const withDeleted = (builder: SelectQueryBuilder<ObjectLiteral>): void => {
      const subQuery = builder.subQuery.bind(builder);
      builder.subQuery = () => {
        const sub = subQuery();
        withDeleted(sub);
        return sub;
      };
      builder.withDeleted();
    };
    if (this.filters.includeDeleted) withDeleted(qb);
    const { scope, timestamp } = category;
    if (scope.kind === 'column') {
      qb.where(`${this.column(scope.column.databaseName)} = :__account`, { __account: this.subject.accountId });
    } else if (scope.kind === 'relation') {
      let from = ALIAS;
      scope.path.forEach((segment, i) => {
        qb.innerJoin(`${from}.${segment}`, `scope${i}`);
        from = `scope${i}`;
      });
      qb.where(`${this.column(scope.column.databaseName, from)} = :__account`, {
        __account: this.subject.accountId,
      });
    } else {
      // A scope function may call where(); it runs first so our filters are added to it.
      scope.fn(qb, { ...this.subject });
    }
    const driver = this.dataSource.driver;
    if (timestamp && this.filters.since) {
      qb.andWhere(`${this.column(timestamp.databaseName)} >= :__since`, {
        __since: driver.preparePersistentValue(new Date(this.filters.since), timestamp),
      });
    }
    if (timestamp && this.filters.until) {
      qb.andWhere(`${this.column(timestamp.databaseName)} < :__until`, {
        __until: driver.preparePersistentValue(new Date(this.filters.until), timestamp),
      });
    }
    return qb;
  }

  /** `"alias"."column"`, escaped for the driver. */
  column(name: string, alias = ALIAS): string {
    const { driver } = this.dataSource;
    return `${driver.escape(alias)}.${driver.escape(name)}`;
  }

  /**
   * SQLite drivers return 64-bit integers as JS numbers, losing precision past 2^53: such
   * columns are read as text, so the archive holds them exactly.
   */
  private selectExpression(column: ColumnMetadata): string {
    const name = this.column(column.databaseName);
    return SQLITE_TYPES.has(this.dataSource.options.type) && SQLITE_BIGINT.has(String(column.type).toLowerCase()) ? `CAST(${name} AS TEXT)` : name;
  }
}
