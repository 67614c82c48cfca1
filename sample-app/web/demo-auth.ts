import type { NextFunction, Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { ExportPrincipal } from 'nestjs-data-export';
import { Member, Team } from '../entities';

/*
 * DEMO SIGN-IN — NOT REAL AUTHENTICATION.
 *
 * The sign-in page lists the seeded users; picking one stores that user's id in a cookie, and
 * the middleware below trusts the cookie blindly. It exists so that you can try the export page
 * as an owner, an admin and an agent. A real app puts its own authentication here (a session,
 * a JWT guard, Passport…) and sets `req.user` the same way: the library reads the principal
 * from `req.user` by default (the `principal` option changes that).
 */

export const DEMO_COOKIE = 'helpdesk_demo_user';

/** What the demo puts on `req.user`: the library's principal plus names for the pages. */
export interface DemoPrincipal extends ExportPrincipal {
  email: string;
  name: string;
  teamName: string;
}

export type DemoRequest = Request & { user?: DemoPrincipal };

/**
 * The help desk's own support agent (staff of the company running the help desk, not a member
 * of any customer team): the only user who sees the admin page (`/admin/exports`). A real app
 * checks its staff's own authorization there.
 */
export const SUPPORT_USER = Object.freeze({
  id: 'helpdesk-support',
  email: 'support@helpdesk.example',
  name: 'Sam Rivera',
  role: 'support',
  teamName: 'Helpdesk staff',
  accountId: 'helpdesk-staff',
});

/** Whether the signed-in user is the demo support agent. */
export function isSupport(user: DemoPrincipal | undefined): boolean {
  return user?.userId === SUPPORT_USER.id && user.role === SUPPORT_USER.role;
}

/** Reads one cookie from the Cookie header (no cookie-parser needed). */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** Turns the demo cookie into `req.user = { userId, accountId, role, email }`. */
export function demoAuthMiddleware(dataSource: DataSource) {
  return (req: DemoRequest, _res: Response, next: NextFunction): void => {
    const id = readCookie(req.headers.cookie, DEMO_COOKIE);
    if (!id || id.length > 64) return next();
    lookUp(dataSource, id)
      .then((user) => {
        if (user) req.user = user;
        next();
      })
      .catch(next);
  };
}

async function lookUp(dataSource: DataSource, id: string): Promise<DemoPrincipal | null> {
  if (id === SUPPORT_USER.id) {
    const { id: userId, email, name, role, teamName, accountId } = SUPPORT_USER;
    return { userId, accountId, role, email, name, teamName };
  }
  const member = await dataSource.getRepository(Member).findOneBy({ id });
  if (!member) return null;
  const team = await dataSource.getRepository(Team).findOneBy({ id: member.teamId });
  return {
    userId: member.id,
    accountId: member.teamId,
    role: member.role,
    email: member.email,
    name: member.name,
    teamName: team?.name ?? member.teamId,
  };
}

/** Sets the demo cookie (HttpOnly, SameSite=Lax, for the session only). */
export function signIn(res: Response, memberId: string): void {
  res.cookie(DEMO_COOKIE, memberId, { httpOnly: true, sameSite: 'lax', path: '/' });
}

export function signOut(res: Response): void {
  res.clearCookie(DEMO_COOKIE, { path: '/' });
}
