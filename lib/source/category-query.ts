import type { DataSource, ObjectLiteral, QueryRunner, SelectQueryBuilder } from 'typeorm';
import type { ExportFilters } from '../entities/data-export.entity';
import type { ColumnMetadata, EntityCategory, ResolvedScope } from '../metadata/export-category.interface';
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
    this.tie(qb, scope, 'scope', '__account', this.subject.accountId, true);
    if (this.subject.kind === 'personal') {
      // A personal export reads only personal categories: one without its tie reads nothing.
      if (!category.personalTie) qb.andWhere('1 = 0');
      else this.tie(qb, category.personalTie, 'personal', '__subject', this.subject.userId, false);
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

  /**
   * Keeps the rows tied to `value` (the account by the scope, the member by `personal`): a
   * column, a relation path joined under its own aliases, or the host's function. The scope comes
   * first (a scope function may call where(), so it runs before any other condition); what a
   * personal export adds is ANDed to it.
   */
  private tie(qb: SelectQueryBuilder<ObjectLiteral>, tie: ResolvedScope, prefix: string, param: string, value: string, first: boolean): void {
    const where = (condition: string) => (first ? qb.where(condition, { [param]: value }) : qb.andWhere(condition, { [param]: value }));
    if (tie.kind === 'column') {
      where(`${this.column(tie.column.databaseName)} = :${param}`);
    } else if (tie.kind === 'relation') {
      let from = ALIAS;
      tie.path.forEach((segment, i) => {
        qb.innerJoin(`${from}.${segment}`, `${prefix}${i}`);
        from = `${prefix}${i}`;
      });
      where(`${this.column(tie.column.databaseName, from)} = :${param}`);
    } else {
      // A function's conditions are one bracketed term: an OR of its own cannot reach past the
      // conditions that follow (since, until, deleted rows, a personal export's member), and in a
      // personal export its where() cannot drop the account's condition.
      const kept = [...qb.expressionMap.wheres];
      tie.fn(qb, { ...this.subject });
      const now = qb.expressionMap.wheres;
      const added = kept.every((clause, i) => now[i] === clause) ? now.slice(kept.length) : now;
      if (added.length === 0) return;
      const term = [{ type: 'simple' as const, condition: '1=1' }, { ...added[0], type: 'and' as const }, ...added.slice(1)];
      qb.expressionMap.wheres = [...kept, { type: kept.length === 0 ? 'simple' : 'and', condition: term }];
    }
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
