import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PG_URL } from './config';
import { Client } from 'pg';
import { cpuMsOf, machineBusyMs } from './proc.util';

export interface AnchorResult {
  wallMs: number;
  archiveBytes: number;
  uncompressedBytes: number;
  machineBusyMs: number;
  /** `/usr/bin/time` of each side of the pipe: CPU seconds and peak RSS. */
  psql?: { userS: number; systemS: number; maxRssKb: number };
  zip?: { userS: number; systemS: number; maxRssKb: number };
  verified: boolean;
  /** CPU of the PostgreSQL backend serving the COPY (polled every 50 ms; the last poll before it ends). */
  backendCpuMs?: number;
}

/** The anchor's query: the same rows, scope and order as the export, as JSON made by PostgreSQL. */
export function anchorQuery(table: string, accountId: string): string {
  return `SELECT row_to_json(m) FROM "${table}" m WHERE m."accountId" = '${accountId}' ORDER BY m."id"`;
}

/** Runs a shell command; resolves with stdout, rejects with stderr on a non-zero exit. */
export function sh(command: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command}\nexit ${code}: ${err}`))));
  });
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Reads the account's rows once, untimed, so that the first measured run (ours or the anchor)
 * does not pay for pages that are not yet in PostgreSQL's buffers or the OS cache.
 */
export async function warmUp(table: string, accountId: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await sh(`psql -X -q -v ON_ERROR_STOP=1 -d ${quote(PG_URL)} -c ${quote(`\\copy (${anchorQuery(table, accountId)}) TO STDOUT`)} > /dev/null`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * The practical limit: `COPY (SELECT row_to_json(…)) TO STDOUT` through psql, piped into
 * Info-ZIP `zip -<level>` writing a ZIP — PostgreSQL makes the JSON, zip deflates on one core.
 */
export async function runAnchor(o: { table: string; accountId: string; level: number; dir: string; keep?: boolean }): Promise<AnchorResult> {
  const zipPath = join(o.dir, `anchor-${Date.now()}.zip`);
  const timing = join(o.dir, 'anchor.time');
  const copy = `\\copy (${anchorQuery(o.table, o.accountId)}) TO STDOUT`;
  const cmd =
    `/usr/bin/time -f 'psql %U %S %M' -a -o ${quote(timing)} psql -X -q -v ON_ERROR_STOP=1 -d ${quote(PG_URL)} -c ${quote(copy)}` +
    ` | /usr/bin/time -f 'zip %U %S %M' -a -o ${quote(timing)} zip -${o.level} -q ${quote(zipPath)} -`;
  rmSync(timing, { force: true });
  const watcher = new Client({ connectionString: PG_URL });
  await watcher.connect();
  const backend = new Map<number, number>();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const { rows } = await watcher.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-anchor'`);
      for (const { pid } of rows) {
        const ms = cpuMsOf(pid);
        if (ms !== undefined) backend.set(pid, ms);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const busy0 = machineBusyMs();
  const t0 = process.hrtime.bigint();
  try {
    await sh(cmd, { PGAPPNAME: 'bench-anchor' });
  } finally {
    polling = false;
    await poll.catch(() => undefined);
    await watcher.end();
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const busy = machineBusyMs() - busy0;
  const archiveBytes = statSync(zipPath).size;
  const totals = await sh(`unzip -Zt ${quote(zipPath)}`);
  const uncompressedBytes = Number(/([\d,]+) bytes uncompressed/.exec(totals)?.[1].replace(/,/g, '') ?? NaN);
  const verified = await sh(`unzip -tq ${quote(zipPath)}`).then(
    () => true,
    () => false,
  );
  const times = Object.fromEntries(
    readFileSync(timing, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter((p) => p.length === 4)
      .map(([who, u, s, m]) => [who, { userS: Number(u), systemS: Number(s), maxRssKb: Number(m) }]),
  );
  if (!o.keep) rmSync(zipPath, { force: true });
  rmSync(timing, { force: true });
  const backendCpuMs = backend.size ? [...backend.values()].reduce((a, b) => a + b, 0) : undefined;
  return { wallMs, archiveBytes, uncompressedBytes, machineBusyMs: busy, psql: times.psql, zip: times.zip, verified, backendCpuMs };
}
