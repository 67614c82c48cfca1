/**
 * A plain Express process that creates the export router, completes one export over HTTP,
 * closes the router and its server, and then simply returns: it must exit on its own (nothing
 * of the queue or the worker left holding the event loop). The DataSource stays open.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExpressHost } from './express-host';

async function main(): Promise<void> {
  const host = await startExpressHost('sqlite', mkdtempSync(join(tmpdir(), 'data-export-child-')), process.env.EXPORT_CHILD_PREFIX!);
  const created = await fetch(`${host.url}/api/exports`, { method: 'POST', headers: { 'x-user': 'owner-a:team-a:owner', 'content-type': 'application/json' }, body: '{}' });
  const { id } = (await created.json()) as { id: string };
  let status = '';
  for (let i = 0; i < 200 && status !== 'completed'; i++) {
    status = ((await (await fetch(`${host.url}/api/exports/${id}`, { headers: { 'x-user': 'owner-a:team-a:owner' } })).json()) as { status: string }).status;
    if (status !== 'completed') await new Promise((r) => setTimeout(r, 50));
  }
  await host.feature.close();
  await new Promise((r) => host.server.close(r));
  console.log(JSON.stringify({ status, dataSourceOpen: host.dataSource.isInitialized, closedAt: Date.now() }));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
