import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Exportable, ExportFile, Redact } from 'nestjs-data-export';
import { resolveTicketScreenshot } from './files/ticket-screenshot';

/*
 * The help desk's schema. Accounts are teams: every exported row belongs to one team, through a
 * `teamId` column, the team's own `id`, or a relation (`ticket.teamId`). Categories with
 * `personal` are also in a member's own export ("Download my data" on the Profile page), each
 * filtered to that member: their member record, the tickets assigned to them, the messages they
 * wrote, their articles, API keys and invitations.
 *
 * Column types are portable (varchar, text, integer, boolean, simple-json, Date with precision 3),
 * so the same entities run on SQLite, PostgreSQL and MySQL/MariaDB.
 */

export type MemberRole = 'owner' | 'admin' | 'agent';

@Exportable({ category: 'team', scope: 'id', description: 'Team profile (name, plan, time zone)', order: 0 })
@Entity('teams')
export class Team {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 120 }) name: string;
  @Column({ type: 'varchar', length: 64 }) slug: string;
  @Column({ type: 'varchar', length: 32 }) plan: string;
  @Column({ type: 'varchar', length: 64 }) timezone: string;
  /** Billing state never blocks an export: a locked team can still get its data out. */
  @Column({ type: 'varchar', length: 16, default: 'active' }) billingStatus: string;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({
  category: 'members',
  scope: 'teamId',
  personal: 'id',
  timestamp: 'createdAt',
  description: 'Member list with roles (passwords and MFA secrets excluded)',
  order: 1,
})
@Entity('members')
@Index(['teamId'])
export class Member {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 120 }) name: string;
  @Column({ type: 'varchar', length: 200 }) email: string;
  @Column({ type: 'varchar', length: 16 }) role: MemberRole;
  @Column({ type: 'varchar', length: 120, nullable: true }) title: string | null;
  /** Never exported: its name means a credential (secure-by-default redaction). */
  @Column({ type: 'varchar', length: 200 }) passwordHash: string;
  /** Never exported: "secret" in the name. */
  @Column({ type: 'varchar', length: 64, nullable: true }) mfaSecret: string | null;
  /** Exported masked: the last octet is zeroed. */
  @Redact({ with: (ip) => (typeof ip === 'string' ? ip.replace(/\.\d+$/, '.0') : null) })
  @Column({ type: 'varchar', length: 64, nullable: true })
  lastSignInIp: string | null;
  @Column({ type: Date, precision: 3, nullable: true }) lastSeenAt: Date | null;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({
  category: 'customers',
  scope: 'teamId',
  timestamp: 'createdAt',
  description: 'All customer records and custom fields',
  order: 2,
})
@Entity('customers')
@Index(['teamId', 'id'])
export class Customer {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 120 }) name: string;
  @Column({ type: 'varchar', length: 200 }) email: string;
  @Column({ type: 'varchar', length: 120, nullable: true }) company: string | null;
  @Column({ type: 'varchar', length: 40, nullable: true }) phone: string | null;
  @Column({ type: 'varchar', length: 8 }) locale: string;
  @Column({ type: 'simple-json', nullable: true }) customFields: Record<string, unknown> | null;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({
  category: 'tickets',
  scope: 'teamId',
  personal: 'assigneeId',
  timestamp: 'createdAt',
  description: 'All tickets with full history (status, priority, assignee, tags)',
  order: 3,
})
@Entity('tickets')
@Index(['teamId', 'id'])
export class Ticket {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  /** The number people see: #1042. */
  @Column({ type: 'integer' }) number: number;
  @Column({ type: 'varchar', length: 36 }) customerId: string;
  @Column({ type: 'varchar', length: 36, nullable: true }) assigneeId: string | null;
  @Column({ type: 'varchar', length: 300 }) subject: string;
  @Column({ type: 'varchar', length: 16 }) status: 'open' | 'pending' | 'on-hold' | 'solved' | 'closed';
  @Column({ type: 'varchar', length: 16 }) priority: 'low' | 'normal' | 'high' | 'urgent';
  @Column({ type: 'varchar', length: 16 }) channel: 'email' | 'chat' | 'web' | 'phone';
  @Column({ type: 'simple-json' }) tags: string[];
  @Column({ type: Date, precision: 3 }) createdAt: Date;
  @Column({ type: Date, precision: 3 }) updatedAt: Date;
  @Column({ type: Date, precision: 3, nullable: true }) solvedAt: Date | null;
  /** The customer's screenshot, if they sent one: the archive holds the PNG itself. */
  @ExportFile({ resolve: resolveTicketScreenshot, maxBytes: '5MB' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  screenshot: string | null;
}

@Exportable({
  category: 'messages',
  scope: 'ticket.teamId',
  // A member's own replies and notes (customers' messages have a customer's id here).
  personal: (qb, subject) => qb.andWhere(`${qb.alias}.authorType = 'agent' AND ${qb.alias}.authorId = :me`, { me: subject.userId }),
  timestamp: 'createdAt',
  description: 'Full conversation history: every customer-visible reply and internal note',
  order: 4,
})
@Entity('messages')
@Index(['ticketId'])
export class Message {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) ticketId: string;
  @ManyToOne(() => Ticket, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'ticketId' })
  ticket?: Ticket;
  @Column({ type: 'varchar', length: 16 }) authorType: 'customer' | 'agent';
  @Column({ type: 'varchar', length: 36 }) authorId: string;
  @Column({ type: 'text' }) body: string;
  /** Internal notes are visible to the team only; they are part of the team's data. */
  @Column({ type: 'boolean', default: false }) internal: boolean;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({
  category: 'articles',
  scope: 'teamId',
  personal: 'authorId',
  timestamp: 'createdAt',
  description: 'Your entire knowledge base, drafts included',
  order: 5,
})
@Entity('articles')
@Index(['teamId'])
export class Article {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 200 }) title: string;
  @Column({ type: 'varchar', length: 200 }) slug: string;
  @Column({ type: 'varchar', length: 64 }) section: string;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'varchar', length: 16 }) status: 'draft' | 'published';
  @Column({ type: 'varchar', length: 36 }) authorId: string;
  @Column({ type: 'integer', default: 0 }) views: number;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
  @Column({ type: Date, precision: 3 }) updatedAt: Date;
}

@Exportable({
  category: 'csat_surveys',
  scope: 'teamId',
  timestamp: 'createdAt',
  description: 'All customer satisfaction (CSAT) responses',
  order: 6,
})
@Entity('csat_responses')
@Index(['teamId'])
export class CsatResponse {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 36 }) ticketId: string;
  @Column({ type: 'varchar', length: 36 }) customerId: string;
  /** 1 (very unsatisfied) to 5 (very satisfied). */
  @Column({ type: 'integer' }) rating: number;
  @Column({ type: 'text', nullable: true }) comment: string | null;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({ category: 'settings', scope: 'teamId', description: 'App settings, SLA configs, widget settings', order: 7 })
@Entity('team_settings')
export class TeamSettings {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'simple-json' }) sla: Record<string, unknown>;
  @Column({ type: 'simple-json' }) widget: Record<string, unknown>;
  @Column({ type: 'simple-json' }) businessHours: Record<string, unknown>;
  @Column({ type: 'varchar', length: 8 }) defaultLocale: string;
  @Column({ type: Date, precision: 3 }) updatedAt: Date;
}

@Exportable({
  category: 'webhooks',
  scope: 'teamId',
  timestamp: 'createdAt',
  description: 'Webhook configurations (URLs only, not secrets)',
  order: 8,
})
@Entity('webhooks')
export class Webhook {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 500 }) url: string;
  @Column({ type: 'simple-json' }) events: string[];
  @Column({ type: 'boolean', default: true }) active: boolean;
  /** The signing secret: never exported (secure-by-default redaction of "secret"). */
  @Column({ type: 'varchar', length: 100 }) secret: string;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({
  category: 'api_keys',
  scope: 'teamId',
  personal: 'createdBy',
  timestamp: 'createdAt',
  description: 'API keys: the name and the last 4 characters only',
  order: 9,
})
@Entity('api_keys')
export class ApiKey {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 120 }) name: string;
  /** Exported as "…" and its last four characters. */
  @Redact({ keep: 'last4' }) @Column({ type: 'varchar', length: 100 }) key: string;
  @Column({ type: 'varchar', length: 36 }) createdBy: string;
  @Column({ type: Date, precision: 3, nullable: true }) lastUsedAt: Date | null;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

@Exportable({
  category: 'invitations',
  scope: 'teamId',
  personal: 'invitedBy',
  timestamp: 'createdAt',
  description: 'Pending team invitations (invite tokens excluded)',
  order: 10,
})
@Entity('invitations')
export class Invitation {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 200 }) email: string;
  @Column({ type: 'varchar', length: 16 }) role: MemberRole;
  @Column({ type: 'varchar', length: 36 }) invitedBy: string;
  /** The invite link's token: never exported ("token" in the name). */
  @Column({ type: 'varchar', length: 100 }) token: string;
  @Column({ type: Date, precision: 3 }) expiresAt: Date;
  @Column({ type: Date, precision: 3 }) createdAt: Date;
}

export const SAMPLE_ENTITIES = [Team, Member, Customer, Ticket, Message, Article, CsatResponse, TeamSettings, Webhook, ApiKey, Invitation];
