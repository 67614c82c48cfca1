import { resolve } from 'node:path';

/** Command-line options of `npm run sample` and `npm run sample:worker`. */
export interface SampleCliOptions {
  port: number;
  host: string;
  publicHost: string;
  tickets: number | undefined;
  seed: number | undefined;
  reset: boolean;
  confirm: boolean;
  worker: boolean;
  redisUrl: string | undefined;
  database: string | undefined;
  help: boolean;
}

export const USAGE = `Usage: npm run sample -- [options]        (web app; also works export jobs)
       npm run sample:worker -- [options] (worker only: same database and Redis)

Options:
  --port <n>        HTTP port (env PORT; default 3000). The worker uses it for links in emails.
  --tickets <n>     Tickets to seed when the database is empty (default 20000), e.g. --tickets 100000
  --reset           Delete var/sample.sqlite, var/exports and var/outbox, then seed again
  --seed <n>        PRNG seed of the data set (same seed, same data)
  --no-confirm      Start exports without email confirmation (by default a confirmation link,
                    in the outbox, must be opened first)
  --no-worker       Web process only: export jobs wait for \`npm run sample:worker\`
  --redis <url>     Redis URL (env REDIS_URL). Otherwise 127.0.0.1:6379 if it answers, else a
                    redis-server from PATH is started on a free port for the sample's lifetime
  --db <file>       SQLite file (default var/sample.sqlite)
  --host <addr>     Address to listen on (env HOST; default 127.0.0.1)
  --help            This text

Environment: EXPORT_SECRET (else a public demo-only secret), REDIS_URL, PORT, HOST.`;

export class CliError extends Error {}

/** Parses `--name value`, `--name=value` and boolean `--flag` / `--no-flag`. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): SampleCliOptions {
  const values = new Map<string, string | boolean>();
  const takesValue = new Set(['port', 'tickets', 'seed', 'redis', 'db', 'host', 'public-host']);
  const flags = new Set(['reset', 'confirm', 'worker', 'help']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      values.set('help', true);
      continue;
    }
    const m = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new CliError(`Unexpected argument "${arg}".`);
    const [, no, name, inline] = m;
    if (takesValue.has(name) && !no) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new CliError(`--${name} needs a value.`);
      values.set(name, value);
    } else if (flags.has(name) && inline === undefined) {
      values.set(name, !no);
    } else {
      throw new CliError(`Unknown option "${arg}".`);
    }
  }
  const int = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name} must be an integer from ${min} to ${max}; got "${raw}".`);
    return n;
  };
  const str = (name: string) => (typeof values.get(name) === 'string' ? (values.get(name) as string) : undefined);
  const db = str('db');
  return {
    port: int('port', str('port') ?? env.PORT, 0, 65535) ?? 3000,
    host: str('host') ?? env.HOST ?? '127.0.0.1',
    publicHost: str('public-host') ?? 'localhost',
    tickets: int('tickets', str('tickets'), 0, 5_000_000),
    seed: int('seed', str('seed'), 0, 2 ** 32 - 1),
    reset: values.get('reset') === true,
    // On unless turned off: the product promises a confirmation email.
    confirm: values.get('confirm') !== false,
    worker: values.get('worker') !== false,
    redisUrl: str('redis') ?? (env.REDIS_URL || undefined),
    database: db ? (db === ':memory:' ? db : resolve(db)) : undefined,
    help: values.get('help') === true,
  };
}
