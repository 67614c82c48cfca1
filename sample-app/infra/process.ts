import { relative } from 'node:path';
import { CliError, USAGE } from './cli';
import { RedisUnavailableError } from './redis';

/** Runs `main`, turning known startup problems into a clear message and exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof CliError) {
      console.error(`${err.message}\n\n${USAGE}`);
    } else if (err instanceof RedisUnavailableError) {
      console.error(`\n${err.message}\n`);
    } else if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
      const port = (err as { port?: number }).port;
      console.error(`\nPort ${port ?? ''} is already in use. Pick another: npm run sample -- --port ${(port ?? 3000) + 1}  (or PORT=${(port ?? 3000) + 1})\n`);
    } else if (/bindings file|NODE_MODULE_VERSION|better_sqlite3\.node/.test(String((err as Error)?.message))) {
      console.error(`\nSQLite's native module (better-sqlite3) is missing or was built for another Node.js version.\nRebuild it: npm rebuild better-sqlite3\n\n${(err as Error).message}\n`);
    } else {
      console.error(err);
    }
    process.exit(1);
  });
}

/**
 * Stops cleanly on Ctrl-C / SIGTERM: runs `cleanup` once (close the app, stop a redis-server we
 * started), then exits. A second signal exits at once.
 */
export function onShutdown(cleanup: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    cleanup()
      .catch((err) => console.error(err))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** A path relative to the working directory, for messages. */
export function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
