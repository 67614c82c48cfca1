/**
 * `--breakdown` and `--experiments`: run in the worker process after the real export.
 * The breakdown times each stage of the data path alone; the experiments run the bench's copy of
 * the data path (bench/pipeline.ts) with one tuning at a time, at the full size.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { ObjectLiteral } from 'typeorm';
import { DataSource } from 'typeorm';
import type { Client } from 'pg';
import { types as pgTypes } from 'pg';
import { ExportRegistry } from 'nestjs-data-export';
import { createEntitySource } from '../lib/source/create-entity-source';
import { createLineSerializer } from '../lib/source/record.serializer';
import { sh } from './anchor';
import { runVariant, Variant } from './pipeline';
import { cpuMsOf, machineBusyMs, memoryOf, MB } from './proc.util';

export interface StageContext {
  app: INestApplicationContext;
  accountId: string;
  declare: { sql: string; parameters: unknown[] };
  batchSize: number;
  level: number;
  storageDir: string;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const f1 = (n: number): string => n.toFixed(1);

function context(ctx: StageContext) {
  const dataSource = ctx.app.get(DataSource);
  const category = ctx.app.get(ExportRegistry).getCategories()[0];
  const select = { sql: ctx.declare.sql.replace(/^DECLARE \S+ NO SCROLL CURSOR FOR /, ''), parameters: ctx.declare.parameters };
  return { dataSource, category, select };
}

/** Opens the library's reader and reads one batch, so that the worker's query tap sees its DECLARE. */
export async function captureCursorQuery(app: INestApplicationContext, accountId: string): Promise<undefined> {
  const dataSource = app.get(DataSource);
  const category = app.get(ExportRegistry).getCategories()[0];
  const reader = createEntitySource({ dataSource, subject: { accountId, userId: 'bench-user' }, filters: {}, batchSize: 1 });
  await reader.open();
  try {
    const it = reader.rows(category);
    await it.next();
    await it.return(undefined);
  } finally {
    await reader.close();
  }
  return undefined;
}

/** The variants of `--experiments`, by index. */
export function experimentVariants(level: number): Variant[] {
  return [
    { name: 'library reader + ZipArchiveWriter (no processor, no encryption)', lib: true, level },
    { name: 'bench copy of the same', level },
    { name: '+ prefetch (next FETCH sent before serializing)', prefetch: true, level },
    { name: '+ prefetch + zlib.crc32', prefetch: true, nativeCrc: true, level },
    { name: '+ prefetch + zlib.crc32 + 4 MiB entry buffer', prefetch: true, nativeCrc: true, entryBuffer: 4 * MB, level },
    { name: '+ prefetch + zlib.crc32 + array rows, text timestamps, per-column serializer', prefetch: true, nativeCrc: true, serializer: 'fast', level },
    { name: '+ prefetch + zlib.crc32 + lines written by PostgreSQL (row_to_json)', prefetch: true, nativeCrc: true, serializer: 'db-json', level },
    { name: 'fast serializer without prefetch', nativeCrc: true, serializer: 'fast', level },
    { name: 'lines by PostgreSQL without prefetch', nativeCrc: true, serializer: 'db-json', level },
    { name: '+ prefetch + fast serializer + parallel deflate (2 blocks of 1 MiB in flight)', prefetch: true, serializer: 'fast', parallelDeflate: 2, level },
    { name: '+ prefetch + lines by PostgreSQL + parallel deflate (2 blocks of 1 MiB in flight)', prefetch: true, serializer: 'db-json', parallelDeflate: 2, level },
    { name: '+ prefetch + lines by PostgreSQL + parallel deflate (4 in flight)', prefetch: true, serializer: 'db-json', parallelDeflate: 4, level },
    { name: '+ prefetch + zlib.crc32 + fast serializer + archiver zlib chunkSize 256 KiB', prefetch: true, nativeCrc: true, serializer: 'fast', zlibChunk: 256 * 1024, level },
    { name: '+ prefetch + library serializer + parallel deflate (2 in flight)', prefetch: true, parallelDeflate: 2, level },
    { name: '+ prefetch + zlib.crc32 + library serializer + archiver zlib chunkSize 256 KiB', prefetch: true, nativeCrc: true, zlibChunk: 256 * 1024, level },
    { name: '+ prefetch + zlib.crc32 + lines by PostgreSQL + archiver zlib chunkSize 256 KiB', prefetch: true, nativeCrc: true, serializer: 'db-json', zlibChunk: 256 * 1024, level },
    { name: 'library serializer + yield after each 64 KiB chunk', yieldEachChunk: true, level },
    { name: 'library serializer + prefetch + zlib.crc32 + yield', prefetch: true, nativeCrc: true, yieldEachChunk: true, level },
    { name: 'library serializer + prefetch + zlib.crc32 + yield + chunkSize 256 KiB', prefetch: true, nativeCrc: true, yieldEachChunk: true, zlibChunk: 256 * 1024, level },
    { name: 'fast serializer + prefetch + zlib.crc32 + yield + chunkSize 256 KiB', prefetch: true, nativeCrc: true, serializer: 'fast', yieldEachChunk: true, zlibChunk: 256 * 1024, level },
    { name: 'lines by PostgreSQL + prefetch + zlib.crc32 + yield + chunkSize 256 KiB', prefetch: true, nativeCrc: true, serializer: 'db-json', yieldEachChunk: true, zlibChunk: 256 * 1024, level },
    { name: 'fast serializer + prefetch + yield + parallel deflate (2 in flight)', prefetch: true, serializer: 'fast', yieldEachChunk: true, parallelDeflate: 2, level },
    { name: 'lines by PostgreSQL + prefetch + yield + parallel deflate (2 in flight)', prefetch: true, serializer: 'db-json', yieldEachChunk: true, parallelDeflate: 2, level },
  ];
}

/** Each stage alone: fetching, serializing, deflating, checksums, encryption. */
export async function runBreakdown(ctx: StageContext): Promise<string> {
  const { dataSource, category, select } = context(ctx);
  const out: string[] = [];

  // 1. Fetch only, through the library's reader (TypeORM rows), keeping a sample.
  const sample: ObjectLiteral[] = [];
  let rows = 0;
  const reader = createEntitySource({ dataSource: dataSource, subject: { accountId: ctx.accountId, userId: 'bench-user' }, filters: {}, batchSize: ctx.batchSize });
  await reader.open();
  let t0 = process.hrtime.bigint();
  try {
    for await (const batch of reader.rows(category)) {
      rows += batch.length;
      for (const r of batch) if (sample.length < 50_000) sample.push(r);
    }
  } finally {
    await reader.close();
  }
  const fetchMs = ms(t0);
  out.push(`  fetch only, library reader (FETCH ${ctx.batchSize}, TypeORM rows): ${f1(fetchMs)} ms, ${f1((fetchMs * 1000) / rows)} µs/row`);

  // 2. Fetch only, raw pg: array rows, timestamptz as text; with and without prefetching.
  for (const prefetch of [false, true]) {
    const qr = dataSource.createQueryRunner('slave');
    await qr.connect();
    try {
      await qr.query('START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await qr.query(`SET LOCAL TimeZone = 'UTC'`);
      await qr.query(`DECLARE bench_fetch NO SCROLL CURSOR FOR ${select.sql}`, select.parameters);
      const client = (qr as unknown as { databaseConnection: Client }).databaseConnection;
      const types = { getTypeParser: (oid: number, format?: string) => (oid === 1184 ? (s: string) => s : pgTypes.getTypeParser(oid, format as 'text')) };
      const fetch = () => client.query({ text: `FETCH FORWARD ${ctx.batchSize} FROM bench_fetch`, rowMode: 'array', types: types as never });
      t0 = process.hrtime.bigint();
      let n = 0;
      let next: ReturnType<typeof fetch> | undefined = fetch();
      while (next) {
        const r: { rows: unknown[] } = await next;
        next = r.rows.length === ctx.batchSize ? fetch() : undefined;
        n += r.rows.length;
        if (!prefetch && next) await next.then(() => undefined);
      }
      const t = ms(t0);
      out.push(`  fetch only, raw pg (array rows, timestamptz as text${prefetch ? ', next FETCH sent at once' : ''}): ${f1(t)} ms, ${f1((t * 1000) / n)} µs/row`);
      await qr.query('ROLLBACK');
    } finally {
      await qr.release();
    }
  }

  // 3. Serializing only: the library's serializer over the sample, several passes.
  const serialize = createLineSerializer(category, dataSource);
  let ndjson: string[] = [];
  for (const r of sample.slice(0, 2000)) serialize(r); // warm-up
  t0 = process.hrtime.bigint();
  const passes = 4;
  for (let p = 0; p < passes; p++) {
    const lines: string[] = [];
    for (const r of sample) lines.push(serialize(r));
    ndjson = lines;
  }
  const serMs = ms(t0) / passes;
  out.push(`  serialize only, library (${sample.length} rows × ${passes}): ${f1((serMs * 1000) / sample.length)} µs/row`);
  const direct = sample.slice(0, 10_000);
  t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) for (const r of direct) JSON.stringify(r);
  out.push(`  for scale, JSON.stringify of the raw row object: ${f1((ms(t0) * 1000) / passes / direct.length)} µs/row`);

  // 4. Deflate, checksums, encryption over the serialized sample (about 15 MB), one thread.
  const text = Buffer.from(ndjson.join('\n') + '\n', 'utf8');
  const mbps = (bytes: number, t: number): string => f1(bytes / MB / (t / 1000));
  for (const level of [ctx.level, 1]) {
    t0 = process.hrtime.bigint();
    const z = zlib.deflateRawSync(text, { level });
    out.push(`  deflate level ${level} (zlib, one thread): ${mbps(text.length, ms(t0))} MB/s, ratio ${f1(text.length / z.length)}:1`);
  }
  const crc = require('crc-32') as { buf: (b: Uint8Array, s?: number) => number };
  t0 = process.hrtime.bigint();
  crc.buf(text);
  const crcJs = ms(t0);
  t0 = process.hrtime.bigint();
  zlib.crc32(text);
  const crcNative = ms(t0);
  out.push(`  crc32: crc-32 (JavaScript, what archiver uses) ${mbps(text.length, crcJs)} MB/s; zlib.crc32 (native) ${mbps(text.length, crcNative)} MB/s`);
  t0 = process.hrtime.bigint();
  createHash('sha256').update(text).digest();
  out.push(`  sha256: ${mbps(text.length, ms(t0))} MB/s`);
  t0 = process.hrtime.bigint();
  const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12));
  cipher.update(text);
  cipher.final();
  out.push(`  aes-256-gcm: ${mbps(text.length, ms(t0))} MB/s`);
  t0 = process.hrtime.bigint();
  Buffer.from(ndjson.join('\n'), 'utf8');
  out.push(`  string → utf8 Buffer: ${mbps(text.length, ms(t0))} MB/s`);
  return out.join('\n');
}

/** Variants of the data path at full size; each builds a ZIP, checked with unzip -t and against the library's NDJSON. */
export async function runExperiments(ctx: StageContext, only?: string[], repeat = 1): Promise<string> {
  const { dataSource, category, select } = context(ctx);
  const all = experimentVariants(ctx.level);
  // `only`: variant indexes (the parent resolves names).
  const picked = all.map((v, i) => [v, i] as const).filter(([, i]) => !only?.length || only.includes(String(i)));
  const out: string[] = [];
  const backendCpu = async (): Promise<number> => {
    const rows: { pid: number }[] = await dataSource.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-worker'`);
    return rows.reduce((n, r) => n + (cpuMsOf(r.pid) ?? 0), 0);
  };
  for (const [v, index] of picked) {
    const times: number[] = [];
    const others: number[] = [];
    let last: Awaited<ReturnType<typeof runVariant>> | undefined;
    let ok = true;
    let size = 0;
    for (let k = 0; k < repeat; k++) {
      const path = join(ctx.storageDir, `experiment-${process.pid}-${k}.zip`);
      // Other processes' CPU during the run: the machine's busy time minus ours and our backends'.
      const busy0 = machineBusyMs();
      const cpu0 = process.cpuUsage();
      const db0 = await backendCpu();
      last = await runVariant({ dataSource, category, accountId: ctx.accountId, select, batchSize: ctx.batchSize }, v, path);
      const cpu = process.cpuUsage(cpu0);
      const db = (await backendCpu()) - db0;
      others.push(Math.max(0, machineBusyMs() - busy0 - (cpu.user + cpu.system) / 1000 - db));
      times.push(last.ms);
      ok &&= await sh(`unzip -tq '${path}'`).then(
        () => true,
        () => false,
      );
      size = statSync(path).size;
      rmSync(path, { force: true });
    }
    out.push(
      JSON.stringify({
        index,
        name: v.name,
        times,
        others,
        rows: last!.rows,
        ndjsonSha256: last!.ndjsonSha256,
        ndjsonBytes: last!.ndjsonBytes,
        zipBytes: size,
        verified: ok,
        hwm: memoryOf().hwm,
      }),
    );
  }
  return out.join('\n');
}
