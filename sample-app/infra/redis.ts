import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';

/** Where the sample's Redis comes from, and how to let it go. */
export interface ResolvedRedis {
  url: string;
  /** `env` (REDIS_URL / --redis), `local` (127.0.0.1:6379 answered), `spawned` (we started one), `shared` (one a sibling process started). */
  source: 'env' | 'local' | 'spawned' | 'shared';
  /** Stops a redis-server we started; a no-op otherwise. */
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {}

const HOW_TO = [
  'The sample needs Redis (the export jobs run on a Bull queue). Any one of these works:',
  '  • set REDIS_URL, e.g.  REDIS_URL=redis://127.0.0.1:6379 npm run sample',
  '  • start one on the default port:  redis-server --port 6379 --save "" --appendonly no',
  '  • run one in Docker:  docker run --rm -p 6379:6379 redis:7',
  '  • install redis-server (apt install redis-server / brew install redis) and the sample starts its own.',
].join('\n');

/**
 * Sends PING and resolves true when the server answers +PONG within `timeoutMs`. A raw RESP
 * exchange: no client library, no retries, nothing left open.
 */
export function ping(host: string, port: number, timeoutMs = 800): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** Pings the server of a redis:// URL (TLS and AUTH URLs are trusted as they are). */
async function pingUrl(url: string): Promise<boolean> {
  const u = new URL(url);
  if (u.protocol !== 'redis:' || u.password || u.username) return true;
  return ping(u.hostname || '127.0.0.1', Number(u.port || 6379));
}

/** A TCP port nobody listens on right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The first executable called `name` on PATH. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const candidate of process.platform === 'win32' ? [`${name}.exe`, name] : [name]) {
      const file = join(dir, candidate);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

export interface ResolveRedisOptions {
  /** An explicit URL (REDIS_URL or --redis). */
  url?: string;
  /**
   * A file where a spawned server's URL is written, so that `npm run sample:worker` finds the
   * Redis that `npm run sample` started.
   */
  shareFile?: string;
  /** Start a redis-server from PATH when nothing answers (the web process; not the worker). */
  spawn?: boolean;
  log?: (line: string) => void;
}

/**
 * Finds a Redis for the sample: `REDIS_URL`; else 127.0.0.1:6379 when it answers PING; else one
 * that a sibling sample process started (share file); else a `redis-server` found on PATH,
 * started on a free port without persistence and stopped with `stop()`. Throws
 * `RedisUnavailableError` with instructions otherwise.
 */
export async function resolveRedis(options: ResolveRedisOptions = {}): Promise<ResolvedRedis> {
  const log = options.log ?? (() => undefined);
  const none = async () => undefined;
  if (options.url) {
    if (!(await pingUrl(options.url))) {
      throw new RedisUnavailableError(`Redis does not answer at ${redact(options.url)} (from REDIS_URL / --redis).\n\n${HOW_TO}`);
    }
    return { url: options.url, source: 'env', stop: none };
  }
  if (await ping('127.0.0.1', 6379)) return { url: 'redis://127.0.0.1:6379', source: 'local', stop: none };

  if (options.shareFile) {
    const shared = readShared(options.shareFile);
    if (shared && (await pingUrl(shared))) return { url: shared, source: 'shared', stop: none };
  }
  if (!options.spawn) {
    throw new RedisUnavailableError(`No Redis answers on 127.0.0.1:6379 and no sample process has started one.\nStart \`npm run sample\` first (it starts a redis-server when it finds one on PATH), or:\n\n${HOW_TO}`);
  }
  const binary = findOnPath('redis-server');
  if (!binary) {
    throw new RedisUnavailableError(`No Redis answers on 127.0.0.1:6379 and redis-server is not on PATH.\n\n${HOW_TO}`);
  }
  const port = await freePort();
  log(`Starting ${binary} on 127.0.0.1:${port} (no persistence; stopped when the sample exits)`);
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (options.shareFile) rmSync(options.shareFile, { force: true });
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
  };
  killWithParent(child);
  const deadline = Date.now() + 5000;
  while (!(await ping('127.0.0.1', port, 300))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new RedisUnavailableError(`redis-server (${binary}) did not start: ${stderr.trim() || 'no answer on port ' + port}\n\n${HOW_TO}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (options.shareFile) writeFileSync(options.shareFile, `${url}\n${process.pid}\n`);
  return { url, source: 'spawned', stop };
}

function readShared(file: string): string | null {
  try {
    const [url, pid] = readFileSync(file, 'utf8').split('\n');
    process.kill(Number(pid), 0); // throws when the process that started it is gone
    return url || null;
  } catch {
    return null;
  }
}

/**
 * A redis-server we started must not outlive us. Ctrl-C reaches it directly (same process
 * group); this covers a normal exit and `process.exit()`.
 */
function killWithParent(child: ChildProcess): void {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
