import type { DataSource } from 'typeorm';
import {
  ApiKey,
  Article,
  CsatResponse,
  Customer,
  Invitation,
  Member,
  Message,
  Team,
  TeamSettings,
  Ticket,
  Webhook,
} from '../entities';
import { BulkInserter } from './bulk-insert';
import { screenshotName } from '../files/ticket-screenshot';
import {
  COUNTRIES,
  CSAT_COMMENTS,
  CUSTOMER_FOLLOW_UPS,
  CUSTOMER_OPENERS,
  FIRST_NAMES,
  LAST_NAMES,
  TeamProfile,
  TEAMS,
} from './content';
import { Prng } from './prng';

export interface SeedOptions {
  /** Tickets across all teams (messages, customers and CSAT responses scale with it). */
  tickets: number;
  /** PRNG seed: the same seed gives the same data. */
  seed?: number;
  /** Tickets generated and inserted per batch. */
  batchSize?: number;
  /** Called after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface SeedSummary {
  teams: number;
  members: number;
  customers: number;
  tickets: number;
  messages: number;
  articles: number;
  csat: number;
  ms: number;
}

export const DEFAULT_SEED = 20260520;

/** Seeded data lives in this window (fixed, so the data set never depends on the clock). */
const DATA_START = Date.UTC(2025, 4, 1);
const DATA_END = Date.UTC(2026, 10, 20);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A seeded demo user: shown on the sign-in page. */
export interface DemoUser {
  id: string;
  teamId: string;
  teamName: string;
  name: string;
  email: string;
  role: Member['role'];
  title: string | null;
}

/**
 * Fills an empty database with a help desk: two teams with members, customers, tickets,
 * conversations (with internal notes), a knowledge base, CSAT responses, settings, webhooks,
 * API keys and pending invitations. Deterministic for a given seed and size; rows are
 * generated and inserted in batches, so 100 000 tickets never sit in memory at once.
 */
export async function seedHelpDesk(dataSource: DataSource, options: SeedOptions): Promise<SeedSummary> {
  const started = Date.now();
  const rng = new Prng(options.seed ?? DEFAULT_SEED);
  const bulk = new BulkInserter(dataSource);
  const total = Math.max(0, Math.floor(options.tickets));
  const batchSize = options.batchSize ?? 2000;
  const summary: SeedSummary = { teams: 0, members: 0, customers: 0, tickets: 0, messages: 0, articles: 0, csat: 0, ms: 0 };
  let done = 0;

  const counts = TEAMS.map((t, i) => (i === TEAMS.length - 1 ? total - TEAMS.slice(0, -1).reduce((s, x) => s + Math.round(total * x.share), 0) : Math.round(total * t.share)));

  for (const [teamIndex, profile] of TEAMS.entries()) {
    const team: Team = {
      id: profile.id,
      name: profile.name,
      slug: profile.slug,
      plan: profile.plan,
      timezone: profile.timezone,
      billingStatus: 'active',
      createdAt: new Date(profile.createdAt),
    };
    await bulk.insert(Team, [team]);
    summary.teams++;

    const members = profile.members.map((m, i): Member => ({
      id: rng.uuid(),
      teamId: team.id,
      name: m.name,
      email: `${m.name.split(' ')[0].toLowerCase()}@${profile.domain}`,
      role: m.role,
      title: m.title,
      // Looks like a real bcrypt hash; it is random and never leaves the database.
      passwordHash: `$2b$12$${rng.chars(53, './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`,
      mfaSecret: m.role === 'agent' && i % 2 === 1 ? null : rng.chars(32, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
      lastSignInIp: `${rng.int(20, 220)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      lastSeenAt: new Date(DATA_END - rng.int(0, 3 * DAY)),
      // In the order of the profile: the owner first, then the admin, then the agents.
      createdAt: new Date(Date.parse(profile.createdAt) + i * 21 * DAY + rng.int(0, 20) * DAY),
    }));
    await bulk.insert(Member, members);
    summary.members += members.length;
    const agents = members.filter((m) => m.role !== 'owner');
    const owner = members.find((m) => m.role === 'owner')!;

    // Customers, oldest first, so a ticket can pick one who already existed.
    const ticketCount = counts[teamIndex];
    const customerCount = Math.max(25, Math.round(ticketCount / 4));
    const customerStart = DATA_START - 300 * DAY;
    const customers: Customer[] = [];
    for (let i = 0; i < customerCount; i++) {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const company = rng.pick(profile.customerCompanies);
      const emailDomain = company ? `${company.toLowerCase().replace(/[^a-z]+/g, '')}.example` : rng.pick(['mail.example', 'inbox.example', 'post.example']);
      customers.push({
        id: rng.uuid(),
        teamId: team.id,
        name: `${first} ${last}`,
        email: `${ascii(first)}.${ascii(last)}${i}@${emailDomain}`,
        company,
        phone: rng.chance(0.6) ? `+1 555 ${String(rng.int(100, 999))} ${String(rng.int(1000, 9999))}` : null,
        locale: rng.pick(profile.locales),
        customFields: profile.customFields(rng, i),
        createdAt: new Date(customerStart + Math.floor(((i + rng.next()) / customerCount) * (DATA_END - customerStart - 30 * DAY))),
      });
    }
    for (let i = 0; i < customers.length; i += 5000) await bulk.insert(Customer, customers.slice(i, i + 5000));
    summary.customers += customers.length;

    // Tickets, their conversations and CSAT responses, in batches. Ticket i is created at an
    // increasing time (denser towards the present, as the business grows).
    for (let start = 0; start < ticketCount; start += batchSize) {
      const end = Math.min(ticketCount, start + batchSize);
      const tickets: Ticket[] = [];
      const messages: Message[] = [];
      const csat: CsatResponse[] = [];
      for (let i = start; i < end; i++) {
        const createdAt = DATA_START + Math.floor(Math.sqrt((i + rng.next()) / ticketCount) * (DATA_END - DATA_START));
        const customer = customers[rng.int(0, Math.max(0, upperBound(customers, createdAt) - 1))];
        const subject = fill(rng.pick(profile.subjects), rng, profile);
        const age = DATA_END - createdAt;
        const status: Ticket['status'] =
          age > 21 * DAY
            ? rng.weighted([['closed', 80], ['solved', 17], ['on-hold', 2], ['pending', 1]] as const)
            : rng.weighted([['open', 30], ['pending', 20], ['on-hold', 5], ['solved', 30], ['closed', 15]] as const);
        const assignee = status === 'open' && rng.chance(0.3) ? null : rng.pick(agents);
        const ticket: Ticket = {
          id: rng.uuid(),
          teamId: team.id,
          number: 1001 + i,
          customerId: customer.id,
          assigneeId: assignee?.id ?? null,
          subject,
          status,
          priority: rng.weighted([['low', 25], ['normal', 52], ['high', 17], ['urgent', 6]] as const),
          channel: rng.weighted([['email', 55], ['chat', 25], ['web', 15], ['phone', 5]] as const),
          tags: rng.sample(profile.tags, rng.weighted([[0, 2], [1, 5], [2, 3], [3, 1]] as const)),
          createdAt: new Date(createdAt),
          updatedAt: new Date(createdAt),
          solvedAt: null,
          screenshot: screenshotName(1001 + i),
        };
        const firstName = customer.name.split(' ')[0];
        const messageCount = rng.weighted([[1, 8], [2, 22], [3, 26], [4, 20], [5, 12], [6, 8], [8, 4]] as const);
        let at = createdAt;
        for (let m = 0; m < messageCount; m++) {
          const internal = m > 0 && rng.chance(0.15);
          const fromCustomer = m === 0 || (!internal && m % 2 === 0);
          const agent = assignee ?? rng.pick(agents);
          const body = m === 0
            ? fill(rng.pick(CUSTOMER_OPENERS), rng, profile).replace('{subject}', subject).replace('{subject_lc}', lowerFirst(subject)).replace('{first}', firstName)
            : internal
              ? fill(rng.pick(profile.notes), rng, profile)
              : fromCustomer
                ? rng.pick(CUSTOMER_FOLLOW_UPS)
                : `Hi ${firstName},\n\n${rng.pick(profile.replies)}\n\nBest,\n${agent.name.split(' ')[0]}\n${profile.name} Support`;
          messages.push({
            id: rng.uuid(),
            ticketId: ticket.id,
            authorType: fromCustomer ? 'customer' : 'agent',
            authorId: fromCustomer ? customer.id : agent.id,
            body,
            internal,
            createdAt: new Date(at),
          });
          at += rng.int(5, 26 * 60) * MINUTE;
        }
        ticket.updatedAt = new Date(Math.min(at, DATA_END));
        if (status === 'solved' || status === 'closed') {
          ticket.solvedAt = ticket.updatedAt;
          if (rng.chance(0.3)) {
            csat.push({
              id: rng.uuid(),
              teamId: team.id,
              ticketId: ticket.id,
              customerId: customer.id,
              rating: rng.weighted([[5, 55], [4, 25], [3, 10], [2, 5], [1, 5]] as const),
              comment: rng.chance(0.4) ? rng.pick(CSAT_COMMENTS) : null,
              createdAt: new Date(ticket.updatedAt.getTime() + rng.int(10, 48 * 60) * MINUTE),
            });
          }
        }
        tickets.push(ticket);
      }
      await bulk.insert(Ticket, tickets);
      await bulk.insert(Message, messages);
      await bulk.insert(CsatResponse, csat);
      summary.tickets += tickets.length;
      summary.messages += messages.length;
      summary.csat += csat.length;
      done += tickets.length;
      options.onProgress?.(done, total);
    }

    const articles = profile.articles.map((a, i): Article => {
      const createdAt = DATA_START - 60 * DAY + i * rng.int(5, 30) * DAY;
      return {
        id: rng.uuid(),
        teamId: team.id,
        title: a.title,
        slug: a.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
        section: a.section,
        body: articleBody(a.title, profile, rng),
        status: a.draft ? 'draft' : 'published',
        authorId: rng.pick(members).id,
        views: a.draft ? 0 : rng.int(40, 9000),
        createdAt: new Date(createdAt),
        updatedAt: new Date(createdAt + rng.int(0, 200) * DAY),
      };
    });
    await bulk.insert(Article, articles);
    summary.articles += articles.length;

    await bulk.insert(TeamSettings, [
      {
        id: rng.uuid(),
        teamId: team.id,
        sla: {
          firstResponse: { urgent: '30m', high: '2h', normal: '8h', low: '24h' },
          resolution: { urgent: '4h', high: '1d', normal: '3d', low: '7d' },
          businessHoursOnly: teamIndex === 0,
          breachAlerts: ['email', 'slack'],
        },
        widget: {
          color: profile.widgetColor,
          position: 'bottom-right',
          greeting: `Hi! 👋 Questions about ${profile.name}? We usually answer within the hour.`,
          showKnowledgeBase: true,
          preChatForm: ['name', 'email'],
          allowedDomains: [`www.${profile.domain}`, profile.domain],
        },
        businessHours: {
          timezone: profile.timezone,
          monday: ['09:00', '18:00'],
          tuesday: ['09:00', '18:00'],
          wednesday: ['09:00', '18:00'],
          thursday: ['09:00', '18:00'],
          friday: ['09:00', '17:00'],
          saturday: teamIndex === 0 ? ['10:00', '14:00'] : null,
          sunday: null,
          holidays: ['2026-12-24', '2026-12-25', '2027-01-01'],
        },
        defaultLocale: 'en',
        updatedAt: new Date(DATA_END - rng.int(1, 90) * DAY),
      },
    ]);

    await bulk.insert(
      Webhook,
      profile.webhooks.map((w, i) => ({
        id: rng.uuid(),
        teamId: team.id,
        url: w.url,
        events: w.events,
        active: w.active,
        secret: `whsec_${rng.chars(32)}`,
        createdAt: new Date(Date.parse(profile.createdAt) + (i + 1) * 20 * DAY),
      })),
    );
    await bulk.insert(
      ApiKey,
      profile.apiKeys.map((name, i) => ({
        id: rng.uuid(),
        teamId: team.id,
        name,
        key: `hd_live_${rng.chars(32, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
        createdBy: rng.pick(members.filter((m) => m.role !== 'agent')).id,
        lastUsedAt: i === profile.apiKeys.length - 1 ? null : new Date(DATA_END - rng.int(1, 48) * HOUR),
        createdAt: new Date(Date.parse(profile.createdAt) + (i + 2) * 35 * DAY),
      })),
    );
    await bulk.insert(
      Invitation,
      profile.invitations.map((inv, i) => {
        const createdAt = DATA_END - (i + 1) * 2 * DAY;
        return {
          id: rng.uuid(),
          teamId: team.id,
          email: `${inv.local}@${profile.domain}`,
          role: inv.role,
          invitedBy: owner.id,
          token: `inv_${rng.chars(40)}`,
          expiresAt: new Date(createdAt + 7 * DAY),
          createdAt: new Date(createdAt),
        };
      }),
    );
  }
  summary.ms = Date.now() - started;
  return summary;
}

/** The seeded users a visitor can sign in as: owner, admin and first agent of each team. */
export async function demoUsers(dataSource: DataSource): Promise<DemoUser[]> {
  const teams = await dataSource.getRepository(Team).find({ order: { createdAt: 'ASC' } });
  const users: DemoUser[] = [];
  for (const team of teams) {
    const members = await dataSource.getRepository(Member).find({ where: { teamId: team.id }, order: { createdAt: 'ASC' } });
    for (const role of ['owner', 'admin', 'agent'] as const) {
      const m = members.find((x) => x.role === role);
      if (m) users.push({ id: m.id, teamId: team.id, teamName: team.name, name: m.name, email: m.email, role: m.role, title: m.title });
    }
  }
  return users;
}

/** Index of the first customer created after `at` (customers are sorted by creation). */
function upperBound(customers: Customer[], at: number): number {
  let lo = 0;
  let hi = customers.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (customers[mid].createdAt.getTime() <= at) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(1, lo);
}

function fill(template: string, rng: Prng, profile: TeamProfile): string {
  return template
    .replace(/\{order\}/g, () => String(rng.int(10000, 99999)))
    .replace(/\{n\}/g, () => String(rng.int(2, 600)))
    .replace(/\{ref\}/g, () => rng.chars(14))
    .replace(/\{thing\}/g, () => rng.pick(profile.things))
    .replace(/\{country\}/g, () => rng.pick(COUNTRIES));
}

function articleBody(title: string, profile: TeamProfile, rng: Prng): string {
  const steps = rng.sample(
    [
      'Open **Settings** from the menu in the top right.',
      'Choose the item or workspace you want to change.',
      'Follow the steps on screen and confirm with **Save**.',
      `Still stuck? Write to support@${profile.domain} and we will help.`,
      'Changes apply immediately; you will get a confirmation email.',
      'Keep your order number or workspace name at hand.',
    ],
    4,
  );
  return `# ${title}\n\nThis article explains ${lowerFirst(title)} at ${profile.name}.\n\n${steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}\n\n_Last reviewed by the ${profile.name} support team._\n`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function ascii(s: string): string {
  return s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
}
