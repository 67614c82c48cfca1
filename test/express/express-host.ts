import express, { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { DATA_EXPORT_ENTITIES, ExportPolicy, LocalDiskStorage } from 'nestjs-data-export';
import { createExportRouter, ExportRouter } from 'nestjs-data-export/express';
import { DatabaseName, dataSourceOptions, REDIS_URL } from '../utils/databases';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk } from '../fixtures/help-desk.seed';

/** A fixed 48-character secret for tests. */
const SECRET = 'test-secret-0123456789-abcdefghij-klmnopqrstuvwx';

/** A plain Express host's sign-in: `x-user: <userId>:<accountId>:<role>` becomes `req.user`. */
export function headerAuth(req: Request & { user?: unknown }, _res: Response, next: NextFunction): void {
  const header = req.headers['x-user'];
  if (typeof header === 'string') {
    const [userId, accountId, role] = header.split(':');
    req.user = { userId, accountId, role, email: `${userId}@${accountId}.example` };
  }
  next();
}

export interface ExpressHost {
  server: Server;
  url: string;
  dataSource: DataSource;
  feature: ExportRouter;
}

/**
 * A plain Express app (no Nest in it) with its own TypeORM DataSource, the export router
 * mounted at `/api/exports` behind its sign-in, listening on a free port.
 */
export async function startExpressHost(db: DatabaseName, storageDir: string, prefix: string, extra: { policy?: new () => ExportPolicy } = {}): Promise<ExpressHost> {
  const dataSource = await new DataSource(dataSourceOptions(db, [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES])).initialize();
  await seedHelpDesk(dataSource, 3);
  const feature = await createExportRouter({
    dataSource,
    entities: HELP_DESK_ENTITIES,
    secret: SECRET,
    redis: REDIS_URL,
    prefix,
    storage: new LocalDiskStorage(storageDir),
    baseUrl: 'https://host.example/api',
    attempts: 1,
    logger: false,
    ...extra,
  });
  const app = express();
  app.use(express.json());
  app.get('/health', (_req, res) => void res.json({ ok: true }));
  app.use('/api/exports', headerAuth, feature.router);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dataSource, feature };
}
