import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { DataExport } from 'nestjs-data-export';
import { CATEGORIES, ExpectedRows } from './seed.js';

/** A failed check: reported by its message alone, without a stack. */
export class SmokeCheckError extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SmokeCheckError(message);
}

/** Checks `actual` equals `expected` (compared as JSON). */
function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what} is ${a}, expected ${e}`);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function unzip(args: string[]): void {
  try {
    execFileSync('unzip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    const output = (e.stderr || e.stdout || '').trim();
    throw new SmokeCheckError(`unzip ${args.join(' ')} exited ${e.status}: ${output}`);
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

export interface VerifyInput {
  /** The archive file in storage. */
  file: string;
  /** Where to unzip it (created). */
  extractDir: string;
  exportRow: DataExport;
  accountId: string;
  requestedBy: string;
  expected: ExpectedRows;
  /** Strings that must not appear anywhere in the archive. */
  canaries: string[];
  /** Columns that `@Redact()` omits: their names must not appear in rows or schemas. */
  omittedFields: string[];
}

/** Checks the stored ZIP end to end; returns the total row count and the archive's size. */
export function verifyArchive(input: VerifyInput): { rows: number; bytes: number } {
  const { exportRow: row, expected } = input;
  const zip = readFileSync(input.file);
  same(row.size, zip.length, 'the export row size (file size expected)');
  same(row.sha256, sha256(zip), "the export row sha256 (the file's expected)");

  unzip(['-t', '-q', input.file]);
  mkdirSync(input.extractDir, { recursive: true });
  unzip(['-q', '-o', input.file, '-d', input.extractDir]);
  const files = new Map(
    listFiles(input.extractDir).map((p) => [relative(input.extractDir, p).split(sep).join('/'), readFileSync(p)]),
  );
  same(
    [...files.keys()].sort(),
    [
      'README.txt',
      'manifest.json',
      ...CATEGORIES.map((c) => `${c}.ndjson`),
      ...CATEGORIES.map((c) => `schemas/${c}.schema.json`),
    ].sort(),
    'the archive entries',
  );

  const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
  same(manifest.exportVersion, '1', 'manifest.exportVersion');
  same(manifest.exportId, row.id, 'manifest.exportId');
  same(manifest.accountId, input.accountId, 'manifest.accountId');
  same(manifest.requestedBy, input.requestedBy, 'manifest.requestedBy');
  same(manifest.format, 'zip', 'manifest.format');
  same((manifest.categories ?? []).map((c: { name: string }) => c.name), CATEGORIES, 'manifest categories');

  let total = 0;
  for (const category of CATEGORIES) {
    const file = `${category}.ndjson`;
    const bytes = files.get(file)!;
    const rows = expected[category];
    total += rows.length;
    const entry = manifest.categories.find((c: { name: string }) => c.name === category);
    same(entry.file, file, `manifest ${category}.file`);
    same(entry.rows, rows.length, `manifest ${category}.rows`);
    same(entry.bytes, bytes.length, `manifest ${category}.bytes (the file's size expected)`);
    same(entry.sha256, sha256(bytes), `manifest ${category}.sha256 (the file's expected)`);
    same(manifest.summary?.byCategory?.[category], rows.length, `manifest summary.byCategory.${category}`);
    same(row.counts?.[category], rows.length, `the export row counts.${category}`);

    // Byte-exact: one JSON object per line, keys in column order, redacted fields absent or masked.
    const want = rows.map((r) => `${JSON.stringify(r)}\n`);
    const got = bytes
      .toString('utf8')
      .split(/(?<=\n)/)
      .filter((line) => line !== '');
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      same(got[i] ?? '<missing>', want[i] ?? '<none>', `${file} line ${i + 1}`);
    }

    const schema = JSON.parse(files.get(`schemas/${category}.schema.json`)!.toString('utf8'));
    same(Object.keys(schema.properties ?? {}), Object.keys(rows[0] ?? {}), `schemas/${category}.schema.json properties`);
  }
  same(manifest.summary?.rows, total, 'manifest summary.rows');

  // The redacted fields are named where the archive says what it leaves out, and nowhere else.
  const listed = (manifest.notIncluded?.redactedFields ?? []).map((f: { field: string }) => f.field);
  for (const field of input.omittedFields) check(listed.includes(field), `manifest notIncluded.redactedFields lacks ${field}`);
  const { notIncluded: _listing, ...manifestRest } = manifest;
  for (const [name, bytes] of files) {
    if (name === 'README.txt') continue;
    const text = name === 'manifest.json' ? Buffer.from(JSON.stringify(manifestRest)) : bytes;
    for (const field of input.omittedFields) {
      check(!text.includes(`"${field}"`), `${name} mentions the redacted field ${field}`);
    }
  }
  for (const canary of input.canaries) {
    check(!zip.includes(canary), `canary ${canary} found in the raw archive`);
    for (const [name, bytes] of files) {
      check(!bytes.includes(canary), `canary ${canary} found in ${name}`);
    }
  }
  return { rows: total, bytes: zip.length };
}
