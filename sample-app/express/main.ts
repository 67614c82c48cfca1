/**
 * A plain Express app (no Nest in it) with the data-export feature mounted at `/api/exports`:
 *
 *   npx ts-node -r tsconfig-paths/register --transpile-only sample-app/express/main.ts
 *
 * It needs Redis (`REDIS_URL`, default redis://127.0.0.1:6379). Try, as the owner of team-a:
 *
 *   curl -X POST -H 'x-demo-user: olivia' localhost:3100/api/exports
 *   curl -H 'x-demo-user: olivia' localhost:3100/api/exports          # progress, then downloadUrl
 *   curl -OJ '<downloadUrl>'                                          # the ZIP
 *
 * `x-demo-user: priya` (an agent) is refused with 403, no header with 401.
 */
import express, { NextFunction, Request, Response } from 'express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { DATA_EXPORT_ENTITIES, Exportable, ExportPrincipal, LocalDiskStorage, Redact } from 'nestjs-data-export';
import { createExportRouter } from 'nestjs-data-export/express';

@Exportable({ category: 'projects', scope: 'teamId', description: 'Projects of the team' })
@Entity('projects')
class Project {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 36 }) teamId: string;
  @Column({ type: 'varchar', length: 120 }) name: string;
  @Redact() @Column({ type: 'varchar', length: 64 }) deployKey: string;
}

/** The demo's users; a real app reads its session here. */
const USERS: Record<string, ExportPrincipal> = {
  olivia: { userId: 'olivia', accountId: 'team-a', role: 'owner', email: 'olivia@team-a.example' },
  priya: { userId: 'priya', accountId: 'team-a', role: 'agent', email: 'priya@team-a.example' },
};

/** The host's own sign-in middleware: it sets `req.user`, which the router reads. */
function demoAuth(req: Request & { user?: ExportPrincipal }, _res: Response, next: NextFunction): void {
  const name = req.header('x-demo-user');
  if (name && USERS[name]) req.user = USERS[name];
  next();
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3100);
  const varDir = join(__dirname, '..', '..', 'var', 'express-sample');
  mkdirSync(varDir, { recursive: true });
  // The host's DataSource: its entities plus the library's own.
  const dataSource = await new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [Project, ...DATA_EXPORT_ENTITIES],
    synchronize: true,
  }).initialize();
  await dataSource.getRepository(Project).save([
    { id: 'p1', teamId: 'team-a', name: 'Website', deployKey: 'secret-1' },
    { id: 'p2', teamId: 'team-a', name: 'Mobile app', deployKey: 'secret-2' },
    { id: 'p3', teamId: 'team-b', name: 'Other team', deployKey: 'secret-3' },
  ]);

  const feature = await createExportRouter({
    dataSource,
    entities: [Project],
    secret: process.env.EXPORT_SECRET ?? 'demo-secret-change-me-0123456789-abcdefghijklmn',
    redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: 'express-sample',
    storage: new LocalDiskStorage(varDir),
    baseUrl: `http://localhost:${port}/api`,
  });

  const app = express();
  app.use(express.json());
  app.use('/api/exports', demoAuth, feature.router);
  const server = app.listen(port, () => console.log(`Plain Express sample on http://localhost:${port}/api/exports`));

  const stop = async () => {
    server.close();
    await feature.close();
    await dataSource.destroy();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
