/** The processes of the fault tests: worker processes (`worker-process.ts`) and the API-only host. */
import { BullModule } from '@nestjs/bull';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { DATA_EXPORT_ENTITIES, ExportModule, LocalDiskStorage } from 'nestjs-data-export';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { dataSourceOptions, REDIS_URL } from '../utils/databases';
import { trackRedisPrefix } from '../utils/global-setup';
import { TEST_SECRET } from '../utils/test-app';

/**
 * Starts a worker process with extra environment; resolves once it is ready. With
 * `FAULT_WORKER_LOG` set (a file), the worker's output is appended there.
 */
export function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 'worker-process.ts')],
      { env: { ...process.env, ...env, TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    if (process.env.FAULT_WORKER_LOG) {
      const log = createWriteStream(process.env.FAULT_WORKER_LOG, { flags: 'a' });
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
    }
    let ready = false;
    child.stdout!.on('data', (c) => {
      if (!String(c).includes('worker ready')) return;
      ready = true;
      resolve(child);
    });
    child.once('exit', (code) => {
      if (!ready) return reject(new Error(`worker exited with ${code}: ${err}`));
      // A worker that dies on its own (a crash) leaves its exports behind: say why in the test's output.
      if (code !== 0 && code !== null) process.stderr.write(`worker ${child.pid} exited with ${code}:\n${err.slice(-4000)}\n`);
    });
  });
}

/** Sends `signal` and waits for the exit; a worker that ignores SIGTERM for 10 s is killed. */
export function stopWorker(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/**
 * The API-only host of the fault tests (`worker: false`, no HTTP): it requests exports and reads
 * their rows, on the PostgreSQL test database, the Redis prefix and the storage the worker
 * processes are given (and the Redis at `redisUrl`, the suite's by default).
 */
export async function startApiHost(prefix: string, storageDir: string, redisUrl = REDIS_URL): Promise<INestApplication> {
  // The suite's teardown removes the keys of the API host and of the workers that share its prefix.
  if (redisUrl === REDIS_URL) trackRedisPrefix(prefix);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(dataSourceOptions('postgres', [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES])),
      BullModule.forRoot({ url: redisUrl, prefix }),
      ExportModule.forRoot({ secret: TEST_SECRET, storage: new LocalDiskStorage(storageDir), worker: false, http: false }),
    ],
  }).compile();
  const api = moduleRef.createNestApplication({ logger: false });
  await api.init();
  return api;
}
