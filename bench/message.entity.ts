import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Exportable } from 'nestjs-data-export';

/**
 * The benchmark's entity, bound to one table: a help-desk message of about 310 bytes as JSON
 * (uuid key, uuid account, ticket and author numbers, a kind, a ~100-character body, a creation
 * time and an edit time that is usually null). One table per benchmark size, so that each size
 * is "one account of N rows plus 20 % of other accounts' rows" and is seeded once.
 * `transformer` measures the path where Node serializes some fields, on the same table.
 */
export function createMessageEntity(table: string, o: { transformer?: boolean } = {}): Function {
  // A column transformer (identity here: the bytes stay the same) leaves that field to the
  // library's serializer in Node, while PostgreSQL writes the rest of the line; see postgresLinePlan.
  const body = o.transformer ? { transformer: { from: (v: string) => v, to: (v: string) => v } } : {};
  @Exportable({ category: 'messages', scope: 'accountId', timestamp: 'createdAt', description: 'Help-desk messages (benchmark data)' })
  @Entity(table)
  class BenchMessage {
    @PrimaryColumn('uuid') id: string;
    @Column('uuid') accountId: string;
    @Column('integer') ticketId: number;
    @Column('integer') authorId: number;
    @Column({ type: 'varchar', length: 16 }) kind: string;
    @Column({ type: 'text', ...body }) body: string;
    @Column('timestamptz') createdAt: Date;
    @Column({ type: 'timestamptz', nullable: true }) editedAt: Date | null;
  }
  return BenchMessage;
}
