/** Starting and stopping the worker processes of the fault tests (`worker-process.ts`). */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Starts a worker process with extra environment; resolves once it is ready. */
export function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 'worker-process.ts')],
      { env: { ...process.env, ...env, TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => String(c).includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${err}`)));
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
