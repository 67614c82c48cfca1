import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import Redis from 'ioredis';
import { MARIADB_URL, POSTGRES_URL, REDIS_URL } from './databases';

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
}
