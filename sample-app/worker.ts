/**
 * `npm run sample:worker`: a worker-only process of the help-desk sample. It works export jobs
 * from the same Redis queue and writes to the same database file as `npm run sample` (start that
 * one with --no-worker to see all jobs land here). No HTTP; the emails it sends link to the web
 * process (same --port / PORT).
 */
import { createSampleWorker, DEFAULT_DATABASE, REDIS_SHARE_FILE } from './create-sample-app';
import { Team } from './entities';
import { parseCli, USAGE } from './infra/cli';
import { onShutdown, runMain, shortPath } from './infra/process';
import { resolveRedis } from './infra/redis';

runMain(async () => {
  const cli = parseCli(process.argv.slice(2));
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  // Never starts a Redis of its own: it must use the one the web process uses.
  const redis = await resolveRedis({ url: cli.redisUrl, spawn: false, shareFile: REDIS_SHARE_FILE });
  const database = cli.database ?? DEFAULT_DATABASE;
  const baseUrl = `http://${cli.publicHost}:${cli.port}`;
  const worker = await createSampleWorker({ database, redisUrl: redis.url, baseUrl, confirm: cli.confirm, logger: ['log', 'warn', 'error'] });
  onShutdown(() => worker.close());
  const teams = await worker.dataSource.getRepository(Team).count();
  console.log(
    [
      '',
      '  Helpdesk sample worker is running (no HTTP).',
      `  Database   ${shortPath(database)}${teams === 0 ? ' (empty: start `npm run sample` to seed it)' : ''}`,
      `  Redis      ${redis.url}`,
      `  Links      ${baseUrl} (the web process; --port / PORT)`,
      '  Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
});
