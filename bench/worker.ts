/**
 * The bench's worker process: boots the host app with `worker: true` and runs the export job the
 * API process (bench/run.ts) queues. It measures itself (peak RSS from /proc/self/status VmHWM,
 * RSS sampled every 50 ms, CPU time, optionally a CPU profile of the job) and answers over IPC.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { DEFAULT_EXPORT_OPTIONS } from 'nestjs-data-export';
import { BenchHostModule, BenchHostOptions } from './host.module';
import { memoryOf } from './proc.util';
import { summarizeProfile } from './profile.util';

export interface WorkerConfig extends Omit<BenchHostOptions, 'worker' | 'onQuery' | 'applicationName'> {
  profile: boolean;
  profilePath?: string;
}

export type ToWorker =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'breakdown'; accountId: string }
  | { type: 'heap' }
  | { type: 'exit' };
export type FromWorker =
  | { type: 'ready'; pid: number; bootMs: number; hwm: number; rss: number }
  | {
      type: 'stopped';
      cpuUserMs: number;
      cpuSystemMs: number;
      rssMaxSampled: number;
      /** Memory every 50 ms: [ms since start, rss, heapUsed, heapTotal, external + arrayBuffers]. */
      samples: [number, number, number, number, number][];
      hwm: number;
      rss: number;
      declare?: { sql: string; parameters: unknown[] };
      /** The first `COPY` statement the export logged. */
      copy?: string;
      profile?: { path: string; summary: string };
    }
  | { type: 'started' }
  | { type: 'heap'; heapAfterGc?: number }
  | { type: 'breakdown'; report: string }
  | { type: 'error'; message: string };

function send(msg: FromWorker): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerConfig;
  let declare: { sql: string; parameters: unknown[] } | undefined;
  let copy: string | undefined;
  const app: INestApplicationContext = await NestFactory.createApplicationContext(
    BenchHostModule.forRoot({
      ...config,
      worker: true,
      applicationName: 'bench-worker',
      onQuery: (sql, parameters) => {
        if (sql.startsWith('DECLARE data_export_cursor ')) declare = { sql, parameters: parameters ?? [] };
        else if (sql.startsWith('COPY (')) copy ??= sql;
      },
    }),
    { logger: ['error', 'warn'] },
  );
  await app.init();

  type Sample = [number, number, number, number, number];
  let window: { cpu: NodeJS.CpuUsage; timer: NodeJS.Timeout; rssMax: number; samples: Sample[]; session?: Session } | undefined;
  process.on('message', (msg: ToWorker) => {
    void (async () => {
      try {
        if (msg.type === 'start') {
          const t0 = Date.now();
          const w = { cpu: process.cpuUsage(), rssMax: 0, samples: [] as Sample[], timer: undefined as unknown as NodeJS.Timeout, session: undefined as Session | undefined };
          w.timer = setInterval(() => {
            const m = process.memoryUsage();
            w.rssMax = Math.max(w.rssMax, m.rss);
            w.samples.push([Date.now() - t0, m.rss, m.heapUsed, m.heapTotal, m.external + m.arrayBuffers]);
          }, 50);
          if (config.profile) {
            w.session = new Session();
            w.session.connect();
            await w.session.post('Profiler.enable');
            await w.session.post('Profiler.setSamplingInterval', { interval: 500 });
            await w.session.post('Profiler.start');
          }
          window = w;
          send({ type: 'started' });
        } else if (msg.type === 'stop' && window) {
          const w = window;
          window = undefined;
          clearInterval(w.timer);
          const cpu = process.cpuUsage(w.cpu);
          let profile: { path: string; summary: string } | undefined;
          if (w.session) {
            const { profile: p } = await w.session.post('Profiler.stop');
            w.session.disconnect();
            const path = config.profilePath ?? `bench-worker-${process.pid}.cpuprofile`;
            writeFileSync(path, JSON.stringify(p));
            profile = { path, summary: summarizeProfile(p) };
          }
          const mem = memoryOf();
          send({ type: 'stopped', cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, rssMaxSampled: w.rssMax, samples: w.samples, ...mem, declare, copy, profile });
        } else if (msg.type === 'heap') {
          // With --expose-gc: what is still referenced after the jobs (a leak), as opposed to garbage
          // not yet collected. Asked once, after the last run: a forced full GC leaves V8 marking
          // the old generation over and over during the next export (about 20 % more worker CPU).
          const gc = (globalThis as { gc?: () => void }).gc;
          gc?.();
          send({ type: 'heap', heapAfterGc: gc ? process.memoryUsage().heapUsed : undefined });
        } else if (msg.type === 'breakdown') {
          const stages = await import('./stages');
          // The stages reuse the library's cursor query: read one batch through its reader to capture it.
          if (!declare) await stages.captureCursorQuery(app, msg.accountId);
          if (!declare) throw new Error('could not capture the cursor query');
          const ctx = { app, accountId: msg.accountId, declare, batchSize: config.batchSize ?? DEFAULT_EXPORT_OPTIONS.batchSize, level: config.compressionLevel };
          send({ type: 'breakdown', report: await stages.runBreakdown(ctx) });
        } else if (msg.type === 'exit') {
          await app.close();
          process.exit(0);
        }
      } catch (err) {
        send({ type: 'error', message: (err as Error)?.stack ?? String(err) });
      }
    })();
  });
  send({ type: 'ready', pid: process.pid, bootMs: Math.round(process.uptime() * 1000), ...memoryOf() });
}

main().catch((err) => {
  send({ type: 'error', message: (err as Error)?.stack ?? String(err) });
  process.exit(1);
});
