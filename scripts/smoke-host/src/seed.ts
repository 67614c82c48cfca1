import type { DataSource } from 'typeorm';
import { Customer, Message, Ticket } from './entities.js';

export const TEAM_A = 'team-a';
export const TEAM_B = 'team-b';
/** Planted in every redacted field: must never appear in the archive. */
export const REDACTED_CANARY = 'SMOKE-CANARY-REDACTED-5b21';
/** Planted in every row of team B: must never appear in team A's archive. */
export const OTHER_TENANT_CANARY = 'SMOKE-CANARY-OTHER-TENANT-e7a0';

/** Archive order of the categories (by `order`). */
export const CATEGORIES = ['customers', 'tickets', 'messages'] as const;
export type CategoryName = (typeof CATEGORIES)[number];
export type ExpectedRows = Record<CategoryName, Record<string, unknown>[]>;

interface Seed {
  customers: Customer[];
  tickets: Ticket[];
  messages: Message[];
}

/** Inserts three customers, four tickets and eight messages for each of the two teams. */
export async function seedRows(dataSource: DataSource): Promise<Seed> {
  const seed: Seed = { customers: [], tickets: [], messages: [] };
  const base = Date.UTC(2026, 0, 10, 9, 30, 0, 123);
  for (const [i, team] of [TEAM_A, TEAM_B].entries()) {
    const mark = team === TEAM_B ? ` ${OTHER_TENANT_CANARY}` : '';
    const idBase = (i + 1) * 100;
    for (let c = 0; c < 3; c++) {
      seed.customers.push(
        Object.assign(new Customer(), {
          id: idBase + c,
          teamId: team,
          name: `Customer ${c} “Ünïcode” "quoted"${mark}`,
          email: c === 2 ? null : `customer${c}@example.com`,
          nationalId: `${REDACTED_CANARY}-nid-${team}-${c}`,
          phone: `+1555010${c}${c}${c}`,
          createdAt: new Date(base + c * 86_400_000),
        }),
      );
    }
    for (let t = 0; t < 4; t++) {
      seed.tickets.push(
        Object.assign(new Ticket(), {
          id: idBase + t,
          teamId: team,
          customerId: idBase + (t % 3),
          subject: `Ticket ${t}: printer on fire${mark}`,
          open: t % 2 === 0,
          priority: t % 3,
          createdAt: new Date(base + t * 3_600_000),
        }),
      );
      for (let m = 0; m < 2; m++) {
        seed.messages.push(
          Object.assign(new Message(), {
            id: idBase + t * 2 + m,
            ticketId: idBase + t,
            body: `Message ${m} on ticket ${t}\nsecond line\twith tab${mark}`,
            internalNote: `${REDACTED_CANARY} note ${team} ${t}/${m}`,
            createdAt: new Date(base + t * 3_600_000 + m * 60_000),
          }),
        );
      }
    }
  }
  // Copies are inserted so that values TypeORM writes back into inserted objects don't change the seed.
  const copy = <T extends object>(rows: T[]): T[] => rows.map((r) => ({ ...r }));
  await dataSource.getRepository(Customer).insert(copy(seed.customers));
  await dataSource.getRepository(Ticket).insert(copy(seed.tickets));
  await dataSource.getRepository(Message).insert(copy(seed.messages));
  return seed;
}

/** The rows team A's archive must hold, in primary-key order and entity column order. */
export function expectedRows(seed: Seed, team = TEAM_A): ExpectedRows {
  const tickets = seed.tickets.filter((t) => t.teamId === team);
  const ticketIds = new Set(tickets.map((t) => t.id));
  const byId = <T extends { id: number }>(rows: T[]): T[] => [...rows].sort((a, b) => a.id - b.id);
  return {
    customers: byId(seed.customers.filter((c) => c.teamId === team)).map((c) => ({
      id: c.id,
      teamId: c.teamId,
      name: c.name,
      email: c.email,
      phone: `…${c.phone.slice(-4)}`,
      createdAt: c.createdAt.toISOString(),
    })),
    tickets: byId(tickets).map((t) => ({
      id: t.id,
      teamId: t.teamId,
      customerId: t.customerId,
      subject: t.subject,
      open: t.open,
      priority: t.priority,
      createdAt: t.createdAt.toISOString(),
    })),
    messages: byId(seed.messages.filter((m) => ticketIds.has(m.ticketId))).map((m) => ({
      id: m.id,
      ticketId: m.ticketId,
      body: m.body,
      createdAt: m.createdAt.toISOString(),
    })),
  };
}
