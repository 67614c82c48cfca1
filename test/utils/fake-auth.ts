import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * A host's sign-in for tests: `x-user: <userId>:<accountId>:<role>[:<email>]` becomes `req.user`;
 * the email defaults to `<userId>@<accountId>.example` (an empty fourth part gives none).
 */
export function fakeAuth(app: INestApplication): void {
  app.use((req: Request & { user?: unknown }, _res: Response, next: NextFunction) => {
    const header = req.headers['x-user'];
    if (typeof header === 'string') {
      const [userId, accountId, role, email = `${userId}@${accountId}.example`] = header.split(':');
      req.user = { userId, accountId, role, ...(email ? { email } : {}) };
    }
    next();
  });
}

/** A host's sign-in whose header is the whole principal as JSON: `x-user: {"userId":…}` becomes `req.user`. */
export function jsonPrincipalAuth(app: INestApplication): void {
  app.use((req: Request & { user?: unknown }, _res: Response, next: NextFunction) => {
    const header = req.headers['x-user'];
    if (typeof header === 'string') req.user = JSON.parse(header);
    next();
  });
}
