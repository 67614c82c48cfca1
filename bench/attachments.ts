/**
 * `npm run bench -- --attachments N [--file-kb K] [--text] [--keep]`: writes one ZIP holding N attachment
 * files of K KiB each (default 1024: random bytes, stored; `--text`: text, deflated) through the
 * library's attachments writer and ZIP writer, with their rows, to a temporary file; checks it
 * with `unzip -t` (`--keep` leaves it for other readers) and prints
 *   bench-attachments: files=N file_kb=K archive_mb=… mb_per_s=… files_per_s=… peak_rss_mb=…
 * The rows come from an in-memory source (no database): this measures the files' path (open,
 * read, hash, store or deflate, write), which is what attachments add to an export.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { ZipArchiveWriter } from '../lib/archive/zip-archive.writer';
import type { CategorySource, NdjsonChunk } from '../lib/source/category-source';
import type { EntityCategory } from '../lib/metadata/export-category.interface';
import type { DataExport } from '../lib/entities/data-export.entity';

const MB = 1024 * 1024;

function argValue(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i === -1 || argv[i + 1] === undefined || argv[i + 1].startsWith('--')) return fallback;
  const text = argv[i + 1].toLowerCase().replace(/_/g, '');
  const n = text.endsWith('k') ? Number(text.slice(0, -1)) * 1000 : text.endsWith('m') ? Number(text.slice(0, -1)) * 1e6 : Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} takes a positive number, not ${argv[i + 1]}`);
  return Math.floor(n);
}

/** A file of `bytes` bytes streamed in 64 KiB pieces from one reused block (no file held in memory). */
function fileStream(bytes: number, block: Buffer): Readable {
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(Buffer.from(block.subarray(0, n)));
    },
  });
}

function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function runAttachmentsBench(argv: string[]): Promise<void> {
  const files = argValue(argv, '--attachments', 1000);
  const fileKb = argValue(argv, '--file-kb', 1024);
  const text = argv.includes('--text');
  const keep = argv.includes('--keep');
  const block = text ? Buffer.from('A ticket screenshot that is really a log file. '.repeat(1400).slice(0, 64 * 1024)) : randomBytes(64 * 1024);
  const category = {
    kind: 'entity',
    name: 'tickets',
    order: 0,
    filterable: false,
    personal: false,
    fields: [{ key: 'id', column: { type: 'varchar', isNullable: false } }, { key: 'file', column: { type: 'varchar', isNullable: true } }],
    omitted: [],
    idKeys: ['id'],
    files: [
      {
        key: 'file',
        maxBytes: 8 * 1024 * MB,
        onError: 'skip',
        stallTimeoutMs: 60_000,
        resolve: (row: Record<string, unknown>) => ({
          name: `file-${String(row.id)}.${text ? 'log' : 'png'}`,
          size: fileKb * 1024,
          contentType: text ? 'text/plain' : 'image/png',
          stream: () => fileStream(fileKb * 1024, block),
        }),
      },
    ],
  } as unknown as EntityCategory;
  const source: CategorySource = {
    count: async () => files,
    async *ndjson(): AsyncGenerator<NdjsonChunk> {
      for (let i = 0; i < files; i += 1000) {
        const lines: string[] = [];
        for (let j = i; j < Math.min(files, i + 1000); j++) lines.push(JSON.stringify({ id: `t${j}`, file: `key-${j}` }));
        yield { bytes: Buffer.from(`${lines.join('\n')}\n`), rows: lines.length };
      }
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'bench-attachments-'));
  const path = join(dir, 'attachments.zip');
  try {
    const out = createWriteStream(path);
    const started = process.hrtime.bigint();
    const exportRow = { id: 'bench', accountId: 'bench', kind: 'account', requestedBy: 'bench', filters: {} } as unknown as DataExport;
    await new ZipArchiveWriter().write(
      { exportRow, categories: [category], source, batchSize: 1000, exportedAt: new Date(), compressionLevel: 6, onBatch: async () => undefined, notIncluded: { excluded: [], notCovered: [], notRequested: [], redactedFields: [], notes: [] }, about: {} },
      out,
    );
    await finished(out);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const archiveBytes = statSync(path).size;
    const payload = files * fileKb * 1024;
    const unzip = execFileSync('unzip', ['-tqq', path]).toString().trim();
    console.log(`unzip -t: ${unzip === '' ? 'ok' : unzip}`);
    console.log(
      `bench-attachments: files=${files} file_kb=${fileKb} kind=${text ? 'text' : 'random'} archive_mb=${(archiveBytes / MB).toFixed(1)} ` +
        `mb_per_s=${(payload / MB / seconds).toFixed(1)} files_per_s=${Math.round(files / seconds)} seconds=${seconds.toFixed(2)} peak_rss_mb=${peakRssMb().toFixed(0)}`,
    );
    if (keep) console.log(`archive kept: ${path}`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
