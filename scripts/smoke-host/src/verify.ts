import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DataExport } from 'nestjs-data-export';
import { CATEGORIES, ExpectedRows } from './seed.js';

export class SmokeCheckError extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SmokeCheckError(message);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function unzip(args: string[]): string {
  try {
    return execFileSync('unzip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    throw new SmokeCheckError(`unzip ${args.join(' ')} exited ${e.status}: ${(e.stderr || e.stdout || '').trim()}`);
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
}

/** Checks the stored ZIP end to end; returns the total row count and the archive's size. */
export function verifyArchive(input: VerifyInput): { rows: number; bytes: number } {
  const { exportRow: row, expected } = input;
  const zip = readFileSync(input.file);
  check(row.size === zip.length, `export size ${row.size} != file size ${zip.length}`);
  check(row.sha256 === sha256(zip), `export sha256 ${row.sha256} != file sha256 ${sha256(zip)}`);

  unzip(['-t', '-q', input.file]);
  mkdirSync(input.extractDir, { recursive: true });
  unzip(['-q', '-o', input.file, '-d', input.extractDir]);

  const files = new Map(listFiles(input.extractDir).map((p) => [relative(input.extractDir, p).split('\\').join('/'), readFileSync(p)]));
  const wantNames = [
    'README.txt',
    'manifest.json',
    ...CATEGORIES.map((c) => `${c}.ndjson`),
    ...CATEGORIES.map((c) => `schemas/${c}.schema.json`),
  ].sort();
  const gotNames = [...files.keys()].sort();
  check(JSON.stringify(gotNames) === JSON.stringify(wantNames), `archive entries ${JSON.stringify(gotNames)}, expected ${JSON.stringify(wantNames)}`);

  const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
  check(manifest.exportVersion === '1', `manifest.exportVersion is ${JSON.stringify(manifest.exportVersion)}`);
  check(manifest.exportId === row.id, `manifest.exportId ${manifest.exportId} != ${row.id}`);
  check(manifest.accountId === input.accountId, `manifest.accountId is ${manifest.accountId}`);
  check(manifest.requestedBy === input.requestedBy, `manifest.requestedBy is ${manifest.requestedBy}`);
  check(manifest.format === 'zip', `manifest.format is ${manifest.format}`);
  const names = (manifest.categories ?? []).map((c: { name: string }) => c.name);
  check(JSON.stringify(names) === JSON.stringify(CATEGORIES), `manifest categories ${JSON.stringify(names)}, expected ${JSON.stringify(CATEGORIES)}`);

  let total = 0;
  for (const category of CATEGORIES) {
    const file = `${category}.ndjson`;
    const bytes = files.get(file)!;
    const rows = expected[category];
    total += rows.length;
    const entry = manifest.categories.find((c: { name: string }) => c.name === category);
    check(entry.file === file, `manifest ${category}.file is ${entry.file}`);
    check(entry.rows === rows.length, `manifest ${category}.rows is ${entry.rows}, expected ${rows.length}`);
    check(entry.bytes === bytes.length, `manifest ${category}.bytes is ${entry.bytes}, file has ${bytes.length}`);
    check(entry.sha256 === sha256(bytes), `manifest ${category}.sha256 does not match ${file}`);
    check(manifest.summary?.byCategory?.[category] === rows.length, `manifest summary.byCategory.${category} is ${manifest.summary?.byCategory?.[category]}`);
    check(row.counts?.[category] === rows.length, `export counts.${category} is ${row.counts?.[category]}, expected ${rows.length}`);

    // Byte-exact: one JSON object per line, keys in column order, redacted fields absent or masked.
    const want = rows.map((r) => `${JSON.stringify(r)}\n`);
    const got = bytes.toString('utf8').split(/(?<=\n)/).filter((l) => l !== '');
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      check(got[i] === want[i], `${file} line ${i + 1} is ${JSON.stringify(got[i] ?? '<missing>')}, expected ${JSON.stringify(want[i] ?? '<none>')}`);
    }

    const schema = JSON.parse(files.get(`schemas/${category}.schema.json`)!.toString('utf8'));
    const props = Object.keys(schema.properties ?? {});
    const keys = Object.keys(rows[0] ?? {});
    check(keys.every((k) => props.includes(k)), `schemas/${category}.schema.json lacks some of ${keys.join(', ')}`);
  }
  check(manifest.summary?.rows === total, `manifest summary.rows is ${manifest.summary?.rows}, expected ${total}`);
  for (const omitted of ['nationalId', 'internalNote']) {
    for (const [name, bytes] of files) {
      check(!bytes.toString('utf8').includes(`"${omitted}"`) || name === 'README.txt', `${name} mentions the redacted field ${omitted}`);
    }
  }

  for (const canary of input.canaries) {
    const needle = Buffer.from(canary, 'utf8');
    check(!zip.includes(needle), `canary ${canary} found in the raw archive`);
    for (const [name, bytes] of files) {
      check(!bytes.includes(needle), `canary ${canary} found in ${name}`);
    }
  }
  return { rows: total, bytes: zip.length };
}
