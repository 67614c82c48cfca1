import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARIADB_URL, POSTGRES_URL, REDIS_URL } from './databases';

/** Names the file where test hosts record their Bull prefixes (set by globalSetup, read by globalTeardown). */
export const REDIS_PREFIXES_FILE_ENV = 'EXPORT_TEST_REDIS_PREFIXES';

/**
 * A Bull prefix of its own for one test host (`<family>-<8 hex>`), recorded so that the suite's
 * teardown removes its keys even when the host is never closed.
 */
export function testRedisPrefix(family = 't'): string {
  const prefix = `${family}-${randomUUID().slice(0, 8)}`;
  trackRedisPrefix(prefix);
  return prefix;
}

/** Records a Bull prefix whose keys the suite's teardown removes from the shared Redis. */
export function trackRedisPrefix(prefix: string): void {
  const file = process.env[REDIS_PREFIXES_FILE_ENV];
  if (file) appendFileSync(file, `${prefix}\n`);
}

/** Removes every `<prefix>:*` key (SCAN + UNLINK, so Redis never blocks on a large set); returns how many. */
export async function deleteRedisKeys(prefixes: readonly string[], url = REDIS_URL): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  await redis.connect();
  try {
    let deleted = 0;
    for (const prefix of prefixes) {
      const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
    }
    return deleted;
  } finally {
    await redis.quit();
  }
}

/**
 * Checks that the real services the suite needs answer, and creates the test databases.
 * Fails early with the command that starts a missing service.
 */
export default async function globalSetup(): Promise<void> {
  const pgUrl = new URL(POSTGRES_URL);
  const pgDb = pgUrl.pathname.slice(1);
  pgUrl.pathname = '/postgres';
  const pg = new Client({ connectionString: pgUrl.toString() });
  await pg.connect().catch((err: Error) => {
    throw new Error(`PostgreSQL is not reachable at ${pgUrl.host} (${err.message}). Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
  });
  const exists = await pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [pgDb]);
  if (exists.rowCount === 0) await pg.query(`CREATE DATABASE "${pgDb}"`);
  await pg.end();

  const myUrl = new URL(MARIADB_URL);
  const myDb = myUrl.pathname.slice(1);
  const my = await createConnection({ host: myUrl.hostname, port: Number(myUrl.port || 3306), user: decodeURIComponent(myUrl.username), password: decodeURIComponent(myUrl.password) }).catch((err: Error) => {
    throw new Error(`MariaDB is not reachable at ${myUrl.host} (${err.message}). Start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`);
  });
  await my.query(`CREATE DATABASE IF NOT EXISTS \`${myDb}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await my.end();

  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  await redis.connect().catch((err: Error) => {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${err.message}). Start it: redis-server --daemonize yes --port 6379 --save "" --appendonly no`);
  });
  await redis.quit();

  // Test hosts record their Bull prefixes here; the teardown removes what is left of their keys.
  const prefixesFile = join(mkdtempSync(join(tmpdir(), 'data-export-test-')), 'redis-prefixes');
  writeFileSync(prefixesFile, '');
  process.env[REDIS_PREFIXES_FILE_ENV] = prefixesFile;
}
