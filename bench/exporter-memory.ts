/**
 * `--exporter N`: the memory of a custom exporter's export, for N generated rows against 10,000.
 * Each size runs in a fresh process (API and worker in one Nest application on the bench's
 * PostgreSQL and Redis): an `@Exporter()` yields rows of about 200 bytes, one export of that
 * category alone is requested and awaited, and the process reports its peak RSS (VmHWM), wall
 * time and CPU. The target: the N-row export's peak within 20 MB of the 10,000-row one's.
 */
import 'reflect-metadata';
import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  CategoryExporter,
  DATA_EXPORT_ENTITIES,
  DATA_EXPORT_MIGRATIONS,
  DataExport,
  Exporter,
  ExportModule,
  ExportService,
  ExportStatus,
  ExportSubject,
  LocalDiskStorage,
} from 'nestjs-data-export';
import { BENCH_SECRET, PG_URL, REDIS_URL } from './config';
import { deleteRedisPrefix } from './redis.util';

const ROWS = Number(process.env.BENCH_EXPORTER_ROWS ?? 10_000);

/** Generated rows, as a remote API's pages would arrive: one at a time. */
@Exporter('generated', { description: 'Generated rows' })
class GeneratedExporter implements CategoryExporter {
  async *rows(subject: ExportSubject) {
    const start = Date.UTC(2026, 0, 1);
    for (let i = 0; i < ROWS; i++) {
      yield {
        id: `${subject.accountId}-${i}`,
        n: i,
        amountCents: BigInt(i) * 1000n,
        at: new Date(start + i * 1000),
        note: `row ${i} of the generated category, with some text to make it about two hundred bytes long`,
        tags: ['a', 'b'],
      };
    }
  }
  count(): number {
    return ROWS;
  }
}

function vmHwmMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** One export in this process; prints one JSON line. */
async function child(): Promise<void> {
  const storageDir = mkdtempSync(join(tmpdir(), 'data-export-bench-exporter-'));
  @Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: PG_URL, entities: DATA_EXPORT_ENTITIES, migrations: DATA_EXPORT_MIGRATIONS, migrationsRun: true, logging: false }),
      BullModule.forRoot({ url: REDIS_URL, prefix: `bench-exporter-${process.pid}` }),
      ExportModule.forRoot({ secret: BENCH_SECRET, storage: new LocalDiskStorage(storageDir), attempts: 1, http: false }),
    ],
    providers: [GeneratedExporter],
  })
  class ExporterBenchModule {}
  const app = await NestFactory.createApplicationContext(ExporterBenchModule, { logger: ['error'] });
  try {
    const dataSource = app.get(DataSource);
    const accountId = `bench-exporter-${process.pid}`;
    const bootHwm = vmHwmMb();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const view = await app.get(ExportService).request({ userId: 'bench', accountId, role: 'owner' }, { categories: ['generated'] });
    let row: DataExport;
    for (;;) {
      row = await dataSource.getRepository(DataExport).findOneByOrFail({ id: view.id });
      if (row.status === ExportStatus.Completed || row.status === ExportStatus.Failed) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const cpu = process.cpuUsage(cpu0);
    const report = {
      rows: ROWS,
      status: row.status,
      ms: Date.now() - t0,
      cpuS: (cpu.user + cpu.system) / 1e6,
      bytes: row.size,
      bootHwmMb: bootHwm,
      hwmMb: vmHwmMb(),
    };
    await dataSource.getRepository(DataExport).delete({ accountId });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await app.close();
    rmSync(storageDir, { recursive: true, force: true });
    await deleteRedisPrefix(`bench-exporter-${process.pid}`);
  }
}

/**
 * Runs 10,000 rows, then `rows`, each in a fresh process on the transpiled bench (as the worker
 * runs: no TypeScript compiler in memory); prints the comparison.
 */
export async function runExporterMemory(rows: number, log: (line: string) => void): Promise<string> {
  // Loaded here only: the measured child processes must not hold the TypeScript compiler.
  const { buildWorker } = await import('./build.util');
  const script = join(dirname(buildWorker(join(__dirname, '..'))), 'exporter-memory.js');
  const reports = [10_000, rows].map((n) => {
    const out = execFileSync(process.execPath, [script], {
      env: { ...process.env, BENCH_EXPORTER_ROWS: String(n), BENCH_EXPORTER_CHILD: '1' },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const report = JSON.parse(out.trim().split('\n').pop()!);
    if (report.status !== ExportStatus.Completed) throw new Error(`the ${n}-row exporter export ended ${report.status}`);
    log(
      `exporter ${n.toLocaleString('en-US')} rows: ${(report.ms / 1000).toFixed(1)} s wall, ${Math.round((n / report.ms) * 1000).toLocaleString('en-US')} rows/s, ` +
        `CPU ${report.cpuS.toFixed(1)} s (API and worker in one process), archive ${(report.bytes / 1e6).toFixed(1)} MB, peak RSS ${report.hwmMb.toFixed(1)} MB (at boot ${report.bootHwmMb.toFixed(1)})`,
    );
    return report as { hwmMb: number };
  });
  const growth = reports[1].hwmMb - reports[0].hwmMb;
  return `exporter: rows=${rows} peak_rss_mb=${reports[1].hwmMb.toFixed(1)} small_peak_rss_mb=${reports[0].hwmMb.toFixed(1)} growth_mb=${growth.toFixed(1)} (target < 20)`;
}

if (process.env.BENCH_EXPORTER_CHILD) {
  child().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
