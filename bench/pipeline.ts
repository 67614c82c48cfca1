/**
 * A copy of the library's data path (cursor reader → line serializer → chunked entry writer →
 * archiver ZIP) with switches for the tunings docs/performance.md measures. The bench runs it in
 * the worker process after the real export (`--experiments`); lib/ itself is not changed.
 */
import archiver from 'archiver';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { Client, QueryArrayResult } from 'pg';
import { types as pgTypes } from 'pg';
import type { DataSource, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ExportCategory } from 'nestjs-data-export';
import { createEntitySource } from '../lib/source/create-entity-source';
import { ZipArchiveWriter } from '../lib/archive/zip-archive.writer';
import { createLineSerializer, toArchiveValue } from '../lib/source/record.serializer';
import { ParallelZipWriter } from './parallel-zip.writer';

export interface Variant {
  name: string;
  /** The library's own ExportReader + ZipArchiveWriter (no processor, no encryption). */
  lib?: boolean;
  /** Send FETCH n+1 before serializing batch n, so the database works while Node does. */
  prefetch?: boolean;
  /** `lib`: createLineSerializer on TypeORM rows; `fast`: per-column converters on array rows
   * with timestamptz read as text in a UTC session; `db-json`: PostgreSQL writes each line. */
  serializer?: 'lib' | 'fast' | 'db-json';
  /** crc-32 in JavaScript (archiver's default) or zlib.crc32 (native, Node ≥ 20.15). */
  nativeCrc?: boolean;
  /** Buffer between the serializer and deflate (the library: 256 KiB). */
  entryBuffer?: number;
  batchSize?: number;
  /** Deflate in independent 1 MiB blocks, this many at a time on the thread pool (bench/parallel-zip.writer.ts instead of archiver). */
  parallelDeflate?: number;
  /** Yield to the event loop after each 64 KiB chunk, even when the stream takes more: deflate's
   * completions (thread pool → main thread) are then handled while serializing goes on. */
  yieldEachChunk?: boolean;
  /** zlib chunkSize of archiver's deflate stream (Node's default: 16 KiB). */
  zlibChunk?: number;
  level: number;
}

export interface VariantResult {
  ms: number;
  rows: number;
  ndjsonBytes: number;
  ndjsonSha256: string;
  zipBytes: number;
}

export interface PipelineContext {
  dataSource: DataSource;
  category: ExportCategory;
  accountId: string;
  /** The SELECT the library's cursor runs (from the captured DECLARE) and its parameters. */
  select: { sql: string; parameters: unknown[] };
  batchSize: number;
}

const TIMESTAMPTZ = new Set(['timestamptz', 'timestamp with time zone']);
const STRINGS = new Set(['uuid', 'varchar', 'character varying', 'text', 'char', 'character', 'citext', 'nvarchar']);
const INTS = new Set(['integer', 'int', 'int4', 'smallint', 'int2']);

/** Counts and hashes what passes (the archive's sha256, as the processor computes it). */
class DigestStream extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** ChunkedEntryWriter's buffering and hashing, writing to a sink (waits without leaving listeners behind). */
class EntryWriter {
  private readonly hash = createHash('sha256');
  private pending = '';
  bytes = 0;
  constructor(
    private readonly sink: Sink,
    private readonly yieldEachChunk = false,
    private readonly chunkChars = 64 * 1024,
  ) {}
  append(text: string): boolean {
    this.pending += text;
    return this.pending.length >= this.chunkChars;
  }
  async flush(): Promise<void> {
    if (!this.pending) return;
    const chunk = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.hash.update(chunk);
    this.bytes += chunk.length;
    await this.sink.write(chunk);
    if (this.yieldEachChunk) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  async end(): Promise<string> {
    await this.flush();
    return this.hash.digest('hex');
  }
}

/** `YYYY-MM-DD HH:MI:SS[.ffffff]+00` (a UTC session's timestamptz) → `YYYY-MM-DDTHH:MI:SS.mmmZ`, as Date#toISOString writes it. */
export function isoFromUtcText(s: string): string {
  const n = s.length;
  if (n < 22 || n > 29 || s.charCodeAt(4) !== 45 || s.charCodeAt(n - 3) !== 43 || s.charCodeAt(n - 2) !== 48 || s.charCodeAt(n - 1) !== 48) {
    // BC, infinity, years past 9999, another zone: the general path.
    const d = pgTypes.getTypeParser(1184)(s) as Date | string;
    return d instanceof Date ? d.toISOString() : String(d);
  }
  const ms = n === 22 ? '000' : `${s.slice(20, n - 3)}00`.slice(0, 3);
  return `${s.slice(0, 10)}T${s.slice(11, 19)}.${ms}Z`;
}

/** Per-column converters for rows in array mode; falls back to the library's path per value. */
function createFastSerializer(category: ExportCategory, dataSource: DataSource): (row: unknown[]) => string {
  const { driver } = dataSource;
  const parts = category.fields.map((field, i) => {
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(field.key)}:`;
    const type = String(typeof field.column.type === 'function' ? (field.column.type as { name: string }).name.toLowerCase() : field.column.type);
    const plain = !field.mask && !field.column.transformer;
    const kind = !plain ? 'general' : STRINGS.has(type) ? 'string' : INTS.has(type) ? 'int' : TIMESTAMPTZ.has(type) ? 'ts' : 'general';
    return { prefix, kind, column: field.column };
  });
  return (row: unknown[]): string => {
    let line = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const v = row[i];
      if (v === null || v === undefined) line += `${p.prefix}null`;
      else if (p.kind === 'string') line += p.prefix + JSON.stringify(v);
      else if (p.kind === 'int') line += p.prefix + v;
      else if (p.kind === 'ts') line += `${p.prefix}"${typeof v === 'string' ? isoFromUtcText(v) : (v as Date).toISOString()}"`;
      else line += p.prefix + JSON.stringify(toArchiveValue(driver.prepareHydratedValue(v, p.column), p.column) ?? null);
    }
    return `${line}}`;
  };
}

/** The scoped, ordered SELECT where PostgreSQL writes each NDJSON line (row_to_json of aliased columns). */
function dbJsonSelect(ctx: PipelineContext): string {
  const exprs = ctx.category.fields.map((f) => {
    const col = `"x"."${f.column.databaseName}"`;
    const type = String(f.column.type);
    const value = TIMESTAMPTZ.has(type) ? `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : col;
    return `${value} AS "${f.key.replace(/"/g, '""')}"`;
  });
  const from = /\sFROM\s+("[^"]+"\s+"x"\s+WHERE .*)$/s.exec(ctx.select.sql)?.[1];
  if (!from) throw new Error('cannot reuse the cursor query');
  return `SELECT row_to_json(r)::text FROM (SELECT ${exprs.join(', ')} FROM ${from}) r`;
}

/** Runs the data path once into a ZIP file, with the variant's switches. */
export async function runVariant(ctx: PipelineContext, v: Variant, outPath: string): Promise<VariantResult> {
  const crc = require('crc-32') as { buf: (data: Uint8Array, seed?: number) => number };
  const jsCrc = crc.buf;
  // crc32-stream passes a Buffer as the first seed (JavaScript coerces it to 0).
  if (v.nativeCrc) crc.buf = (data, seed) => zlib.crc32(data, typeof seed === 'number' ? seed >>> 0 : 0) | 0;
  const t0 = process.hrtime.bigint();
  try {
    const result = v.lib ? await runLib(ctx, v, outPath) : await runCopy(ctx, v, outPath);
    return { ...result, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  } finally {
    crc.buf = jsCrc;
  }
}

async function runLib(ctx: PipelineContext, v: Variant, outPath: string): Promise<Omit<VariantResult, 'ms'>> {
  const reader = createEntitySource({ dataSource: ctx.dataSource, subject: { accountId: ctx.accountId, userId: 'bench-user' }, filters: {}, batchSize: v.batchSize ?? ctx.batchSize });
  await reader.open();
  try {
    const digest = new DigestStream();
    const written = pipeline(digest, createWriteStream(outPath));
    const summaries = await new ZipArchiveWriter().write(
      {
        exportRow: { id: 'bench', accountId: ctx.accountId, requestedBy: 'bench-user', filters: {} } as never,
        categories: [ctx.category],
        source: reader,
        batchSize: v.batchSize ?? ctx.batchSize,
        exportedAt: new Date(),
        compressionLevel: v.level,
        onBatch: async () => undefined,
      },
      digest,
    );
    await written;
    return { rows: summaries[0].rows, ndjsonBytes: summaries[0].bytes, ndjsonSha256: summaries[0].sha256, zipBytes: digest.bytes };
  } finally {
    await reader.close();
  }
}

/** Where serialized bytes go: an archiver entry (a stream), or the parallel writer. */
interface Sink {
  write(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
  abort(): void;
}

function archiverSink(v: Variant, output: DigestStream, entryBuffer: number): Sink {
  const zip = archiver('zip', { zlib: { level: v.level, ...(v.zlibChunk ? { chunkSize: v.zlibChunk } : {}) }, store: v.level === 0 });
  zip.pipe(output);
  const entry = new PassThrough({ highWaterMark: entryBuffer });
  zip.append(entry as never, { name: 'messages.ndjson' });
  return {
    async write(chunk) {
      if (!entry.write(chunk)) await once(entry, 'drain');
    },
    async finish() {
      entry.end();
      zip.append('{}\n', { name: 'manifest.json' });
      await zip.finalize();
    },
    abort: () => zip.abort(),
  };
}

async function parallelSink(v: Variant, output: DigestStream): Promise<Sink> {
  const zip = new ParallelZipWriter(output, v.level, v.parallelDeflate);
  await zip.begin('messages.ndjson');
  return {
    write: (chunk) => zip.write(chunk),
    async finish() {
      await zip.end();
      await zip.begin('manifest.json');
      await zip.write(Buffer.from('{}\n'));
      await zip.end();
      await zip.finalize();
    },
    abort: () => output.destroy(),
  };
}

async function runCopy(ctx: PipelineContext, v: Variant, outPath: string): Promise<Omit<VariantResult, 'ms'>> {
  const batchSize = v.batchSize ?? ctx.batchSize;
  const qr: QueryRunner = ctx.dataSource.createQueryRunner('slave');
  await qr.connect();
  const digest = new DigestStream();
  const written = pipeline(digest, createWriteStream(outPath));
  const sink = v.parallelDeflate ? await parallelSink(v, digest) : archiverSink(v, digest, v.entryBuffer ?? 4 * 64 * 1024);
  try {
    await qr.query('START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const serializer = v.serializer ?? 'lib';
    if (serializer === 'fast') await qr.query(`SET LOCAL TimeZone = 'UTC'`);
    const select = serializer === 'db-json' ? dbJsonSelect(ctx) : ctx.select.sql;
    await qr.query(`DECLARE bench_cursor NO SCROLL CURSOR FOR ${select}`, ctx.select.parameters);
    const client = (qr as unknown as { databaseConnection: Client }).databaseConnection;
    // Array rows, and text for timestamptz (converted by string slicing, no Date).
    const textTypes = { getTypeParser: (oid: number, format?: string) => (oid === 1184 ? (s: string) => s : pgTypes.getTypeParser(oid, format as 'text')) };
    const fetch = (): Promise<unknown[]> =>
      serializer === 'lib'
        ? qr.query(`FETCH FORWARD ${batchSize} FROM bench_cursor`)
        : client
            .query({ text: `FETCH FORWARD ${batchSize} FROM bench_cursor`, rowMode: 'array', types: textTypes as never })
            .then((r: QueryArrayResult) => r.rows);

    const entry = new EntryWriter(sink, v.yieldEachChunk);
    const libLine = createLineSerializer(ctx.category, ctx.dataSource);
    const fastLine = serializer === 'fast' ? createFastSerializer(ctx.category, ctx.dataSource) : undefined;
    let rows = 0;
    let next: Promise<unknown[]> | undefined = fetch();
    while (next) {
      const batch: unknown[] = await next;
      next = batch.length === batchSize && v.prefetch ? fetch() : undefined;
      for (const raw of batch) {
        const line = serializer === 'db-json' ? (raw as string[])[0] : fastLine ? fastLine(raw as unknown[]) : libLine(raw as ObjectLiteral);
        if (entry.append(`${line}\n`)) await entry.flush();
        rows++;
      }
      if (!next && batch.length === batchSize) next = fetch();
    }
    const ndjsonSha256 = await entry.end();
    await sink.finish();
    await written;
    await qr.query('ROLLBACK');
    return { rows, ndjsonBytes: entry.bytes, ndjsonSha256, zipBytes: digest.bytes };
  } catch (err) {
    sink.abort();
    throw err;
  } finally {
    await qr.release();
  }
}
