/**
 * `npm run sample`: the help-desk sample on SQLite (var/sample.sqlite) and Redis, with the demo
 * sign-in, the Settings → Data Export page and the outbox. See sample-app/README.md.
 */
import { createSampleApp, DEFAULT_DATABASE, DEFAULT_TICKETS, REDIS_SHARE_FILE } from './create-sample-app';
import { parseCli, USAGE } from './infra/cli';
import { onShutdown, runMain, shortPath } from './infra/process';
import { resolveRedis } from './infra/redis';
import { ExportRegistry } from 'nestjs-data-export';
import { DEMO_ONLY_EXPORT_SECRET, exportSecret } from './sample.settings';

runMain(async () => {
  const cli = parseCli(process.argv.slice(2));
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  const redis = await resolveRedis({ url: cli.redisUrl, spawn: true, shareFile: REDIS_SHARE_FILE, log: (l) => console.log(l) });
  let closeApp: () => Promise<void> = async () => undefined;
  onShutdown(async () => {
    await closeApp();
    await redis.stop();
  });

  const database = cli.database ?? DEFAULT_DATABASE;
  let lastShown = 0;
  const sample = await createSampleApp({
    port: cli.port,
    host: cli.host,
    publicHost: cli.publicHost,
    database,
    redisUrl: redis.url,
    worker: cli.worker,
    confirm: cli.confirm,
    tickets: cli.tickets ?? DEFAULT_TICKETS,
    seed: cli.seed,
    reset: cli.reset,
    logger: ['warn', 'error'],
    onSeedProgress: (done, total) => {
      if (lastShown === 0) console.log(`Seeding an empty database with ${total.toLocaleString('en-US')} tickets…`);
      if (process.stdout.isTTY && (done === total || Date.now() - lastShown > 500)) {
        process.stdout.write(`\r  ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} tickets${done === total ? '\n' : ''}`);
      }
      lastShown = Date.now();
    },
  }).catch(async (err) => {
    await redis.stop();
    throw err;
  });
  closeApp = sample.close;

  const { url, users } = sample;
  const dbLine = sample.seeded
    ? `seeded now: ${sample.seeded.tickets.toLocaleString('en-US')} tickets, ${sample.seeded.messages.toLocaleString('en-US')} messages, ${sample.seeded.customers.toLocaleString('en-US')} customers in ${(sample.seeded.ms / 1000).toFixed(1)} s`
    : `${sample.tickets.toLocaleString('en-US')} tickets from an earlier run; --reset seeds again${cli.tickets !== undefined && cli.tickets !== sample.tickets ? `, --tickets ${cli.tickets} applies to an empty database only` : ''}`;
  const redisLine = {
    env: 'from REDIS_URL / --redis',
    local: 'answered on the default port',
    shared: 'started by another sample process',
    spawned: 'started for this run from redis-server on PATH; stopped on exit',
  }[redis.source];
  const width = Math.max(...users.map((u) => u.name.length));
  const categories = sample.app.get(ExportRegistry).getCategories();
  const omitted = categories.flatMap((c) => c.omitted.map((o) => `${c.name}.${o.key}${o.reason === 'sensitive-name' ? ' (by name)' : ''}`));
  const masked = categories.flatMap((c) => c.fields.filter((f) => f.mask).map((f) => `${c.name}.${f.key} (${f.mask!.mode === 'last4' ? 'last 4' : 'masked'})`));
  const lines = [
    '',
    `  Helpdesk sample is running: ${url}`,
    '',
    `  Database   ${shortPath(database)} (${dbLine})`,
    `  Redis      ${redis.url} (${redisLine})`,
    `  Jobs       ${cli.worker ? 'worked in this process (npm run sample:worker adds a separate worker)' : 'NOT worked here (--no-worker): run `npm run sample:worker`'}`,
    `  Email      confirmation ${cli.confirm ? 'required (--no-confirm turns it off)' : 'off (--no-confirm)'}; emails land in ${url}/demo/outbox`,
    `  Export     ${categories.length} categories; never exported: ${omitted.join(', ')}; masked: ${masked.join(', ')}`,
    `  Secret     ${exportSecret() === DEMO_ONLY_EXPORT_SECRET ? 'DEMO-ONLY built-in secret (set EXPORT_SECRET for anything real)' : 'from EXPORT_SECRET'}`,
    '',
    `  Demo users: sign in at ${url}/demo/sign-in (demo sign-in — not real authentication)`,
    ...users.map((u) => `    ${u.teamName.padEnd(22)} ${u.role.padEnd(6)} ${u.name.padEnd(width)}  ${u.email}${u.role === 'agent' ? '   (cannot export)' : ''}`),
    '',
    `  Settings → Data Export: ${url}/settings/data-export`,
    '  Stop with Ctrl-C.',
    '',
  ];
  console.log(lines.join('\n'));
});
