/**
 * `--breakdown`: runs in the worker process after the real export and times each stage of the data
 * path alone.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { ObjectLiteral } from 'typeorm';
import { DataSource } from 'typeorm';
import type { Client } from 'pg';
import { types as pgTypes } from 'pg';
import { ExportRegistry } from 'nestjs-data-export';
import { createEntitySource } from '../lib/source/create-entity-source';
import { createLineSerializer } from '../lib/source/record.serializer';
import { MB } from './proc.util';

export interface StageContext {
  app: INestApplicationContext;
  accountId: string;
  declare: { sql: string; parameters: unknown[] };
  batchSize: number;
  level: number;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const f1 = (n: number): string => n.toFixed(1);

function context(ctx: StageContext) {
  const dataSource = ctx.app.get(DataSource);
  const category = ctx.app.get(ExportRegistry).getEntityCategories()[0];
  const select = { sql: ctx.declare.sql.replace(/^DECLARE \S+ NO SCROLL CURSOR FOR /, ''), parameters: ctx.declare.parameters };
  return { dataSource, category, select };
}

/** Opens the library's reader and reads one batch, so that the worker's query tap sees its DECLARE. */
export async function captureCursorQuery(app: INestApplicationContext, accountId: string): Promise<undefined> {
  const dataSource = app.get(DataSource);
  const category = app.get(ExportRegistry).getEntityCategories()[0];
  const reader = createEntitySource({ dataSource, subject: { accountId, userId: 'bench-user', kind: 'account', requestedBy: 'bench-user' }, filters: {}, batchSize: 1 });
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

/** Each stage alone: fetching, serializing, deflating, checksums, encryption. */
export async function runBreakdown(ctx: StageContext): Promise<string> {
  const { dataSource, category, select } = context(ctx);
  const out: string[] = [];

  // 1. Fetch only, through the library's reader (TypeORM rows), keeping a sample.
  const sample: ObjectLiteral[] = [];
  let rows = 0;
  const reader = createEntitySource({ dataSource: dataSource, subject: { accountId: ctx.accountId, userId: 'bench-user', kind: 'account', requestedBy: 'bench-user' }, filters: {}, batchSize: ctx.batchSize });
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
  t0 = process.hrtime.bigint();
  zlib.crc32(text);
  out.push(`  crc32: zlib.crc32 (native, what the library's ZIP writer uses) ${mbps(text.length, ms(t0))} MB/s`);
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
