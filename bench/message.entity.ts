import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Exportable } from 'nestjs-data-export';

/**
 * The benchmark's entity, bound to one table: a help-desk message of about 310 bytes as JSON
 * (uuid key, uuid account, ticket and author numbers, a kind, a ~100-character body, a creation
 * time and an edit time that is usually null). One table per benchmark size, so that each size
 * is "one account of N rows plus 20 % of other accounts' rows" and is seeded once.
 */
export function createMessageEntity(table: string): Function {
  @Exportable({ category: 'messages', scope: 'accountId', timestamp: 'createdAt', description: 'Help-desk messages (benchmark data)' })
  @Entity(table)
  class BenchMessage {
    @PrimaryColumn('uuid') id: string;
    @Column('uuid') accountId: string;
    @Column('integer') ticketId: number;
    @Column('integer') authorId: number;
    @Column({ type: 'varchar', length: 16 }) kind: string;
    @Column('text') body: string;
    @Column('timestamptz') createdAt: Date;
    @Column({ type: 'timestamptz', nullable: true }) editedAt: Date | null;
  }
  return BenchMessage;
}
