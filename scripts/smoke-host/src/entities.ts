import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Exportable, Redact } from 'nestjs-data-export';

/**
 * The smoke host's own schema: accounts are teams. Customers and tickets are scoped by a
 * column, messages through a relation path (`ticket.teamId`).
 */
@Exportable({ category: 'customers', scope: 'teamId', timestamp: 'createdAt', description: 'Customer records', order: 1 })
@Entity('smoke_customers')
export class Customer {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 64 }) teamId!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'varchar', length: 200, nullable: true }) email!: string | null;
  /** Omitted from the archive. */
  @Redact() @Column({ type: 'varchar', length: 200 }) nationalId!: string;
  /** Shown as `…` plus the last four characters. */
  @Redact({ keep: 'last4' }) @Column({ type: 'varchar', length: 64 }) phone!: string;
  @Column({ type: Date, precision: 3 }) createdAt!: Date;
}

@Exportable({ category: 'tickets', scope: 'teamId', timestamp: 'createdAt', description: 'Support tickets', order: 2 })
@Entity('smoke_tickets')
export class Ticket {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'varchar', length: 64 }) teamId!: string;
  @Column({ type: 'integer' }) customerId!: number;
  @Column({ type: 'varchar', length: 300 }) subject!: string;
  @Column({ type: 'boolean' }) open!: boolean;
  @Column({ type: 'integer' }) priority!: number;
  @Column({ type: Date, precision: 3 }) createdAt!: Date;
}

@Exportable({ category: 'messages', scope: 'ticket.teamId', timestamp: 'createdAt', description: 'Ticket conversations', order: 3 })
@Entity('smoke_messages')
export class Message {
  @PrimaryColumn({ type: 'integer' }) id!: number;
  @Column({ type: 'integer' }) ticketId!: number;
  @ManyToOne(() => Ticket, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'ticketId' })
  ticket?: Ticket;
  @Column({ type: 'text' }) body!: string;
  /** Omitted from the archive. */
  @Redact() @Column({ type: 'varchar', length: 300 }) internalNote!: string;
  @Column({ type: Date, precision: 3 }) createdAt!: Date;
}

export const SMOKE_ENTITIES = [Customer, Ticket, Message];
