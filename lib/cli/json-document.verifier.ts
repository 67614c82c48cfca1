import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ExportArchiveVerdict } from './archive.verifier';
import { JsonDocumentError, JsonDocumentReader } from './json-document.reader';
import { ArchiveProblem as Problem, fileSha256 } from './verify.error';

/**
 * Checks a `json` or `json.gz` export as it streams: whole JSON (and whole gzip), `data` an
 * object of arrays of objects, and counts that agree with the document's `summary`.
 * @internal
 */
export async function verifyJsonDocument(path: string, gzipped: boolean): Promise<ExportArchiveVerdict> {
  const file = basename(path);
  const counts = new Map<string, number>();
  let problem: Problem | undefined;
  const reader = new JsonDocumentReader(
    (category, row) => {
      const n = (counts.get(category) ?? 0) + 1;
      counts.set(category, n);
      if (!problem && (!row || typeof row !== 'object' || Array.isArray(row))) problem = new Problem(file, `data.${category}[${n - 1}] is not a JSON object`);
    },
    (category) => {
      if (!problem && counts.has(category)) problem = new Problem(file, `data.${category} appears twice`);
      counts.set(category, 0);
    },
  );
  const raw = createReadStream(path, { highWaterMark: 1024 * 1024 });
  const source: Readable = gzipped ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => source.destroy(err));
  try {
    for await (const chunk of source) {
      reader.write(chunk as Buffer);
      if (problem) throw problem;
    }
  } catch (err) {
    if (err instanceof Problem || err instanceof JsonDocumentError) throw err;
    if (gzipped && (err as { code?: string }).code?.startsWith('Z_')) throw new Problem(file, `is not a whole gzip file (${(err as Error).message})`);
    throw err;
  }
  const doc = reader.end();
  if (typeof doc.exportVersion !== 'string' || !doc.data || typeof doc.data !== 'object') {
    throw new Problem(file, 'is not an export document (no "exportVersion" or "data")');
  }
  const summary = doc.summary as { rows?: unknown; categories?: unknown; byCategory?: Record<string, unknown> } | undefined;
  if (!summary || typeof summary !== 'object' || !summary.byCategory) throw new Problem(file, 'has no "summary" with "byCategory"');
  const rows = [...counts.values()].reduce((a, b) => a + b, 0);
  for (const [category, expected] of Object.entries(summary.byCategory)) {
    const found = counts.get(category) ?? 0;
    if (found !== expected) throw new Problem(file, `data.${category} holds ${found} rows, the summary says ${String(expected)}`);
  }
  for (const category of counts.keys()) {
    if (!Object.hasOwn(summary.byCategory, category)) throw new Problem(file, `data.${category} is not in the summary`);
  }
  if (summary.rows !== rows || summary.categories !== Object.keys(summary.byCategory).length) {
    throw new Problem(file, `its summary says ${String(summary.categories)} categories and ${String(summary.rows)} rows; its data holds ${Object.keys(summary.byCategory).length} and ${rows}`);
  }
  return { ok: true, format: gzipped ? 'json.gz' : 'json', categories: Object.keys(summary.byCategory).length, rows, sha256: await fileSha256(path), signature: 'unsigned' };
}
