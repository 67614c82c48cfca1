import type Ajv2020 from 'ajv/dist/2020';
import { createPublicKey, KeyObject, verify as verifySignature } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { MANIFEST_SIGNATURE_FILE } from '../archive/manifest-signature.util';
import { JsonDocumentError } from './json-document.reader';
import { verifyJsonDocument } from './json-document.verifier';
import { ArchiveProblem as Problem, fileSha256 } from './verify.error';
import { ZipFileReader, ZipFormatError } from './zip-file.reader';
import { checkFile, drain } from './archive-file.check';

/**
 * What `verifyExportArchive` found: `ok`, with what the archive holds, or the first problem and
 * the file it is in.
 * @publicApi
 */
export type ExportArchiveVerdict =
  | {
      ok: true;
      format: 'zip' | 'json' | 'json.gz';
      categories: number;
      rows: number;
      /** SHA-256 of the whole archive file, as the export's view gives it. */
      sha256: string;
      /** `valid`: checked with the key given; `unchecked`: signed, no key given; `unsigned`. */
      signature: 'valid' | 'unchecked' | 'unsigned';
      keyId?: string;
    }
  | { ok: false; file: string; problem: string };

/** Options of `verifyExportArchive`. @publicApi */
export interface VerifyExportArchiveOptions {
  /** The Ed25519 public key that must have signed the manifest (a `KeyObject`, or PEM text). */
  publicKey?: KeyObject | string;
}

/** Largest schema (or signature) read whole. */
const MAX_SMALL_FILE = 16 * 1024 * 1024;
/** Largest manifest read whole: it may list many attachments. */
const MAX_MANIFEST = 256 * 1024 * 1024;

interface ManifestFile {
  name?: string;
  file: string;
  rows?: number;
  bytes?: number;
  size?: number;
  sha256: string;
  schema?: string;
}

/**
 * Checks an export archive as its recipient has it: a ZIP's central directory and every entry's
 * CRC, every file the manifest lists (the categories' files, README.txt, the schemas) against
 * its SHA-256, size and row count, every NDJSON row
 * against its category's JSON Schema, that nothing is in the ZIP the manifest does not describe,
 * and, given `publicKey`, the manifest's Ed25519 signature. A `json` or `json.gz` document is
 * checked against its own summary. Reads the archive as a stream: memory stays flat.
 * @publicApi
 * @example
 * const verdict = await verifyExportArchive('export.zip', { publicKey: readFileSync('export-signing.pub.pem', 'utf8') });
 * if (!verdict.ok) console.error(`${verdict.file}: ${verdict.problem}`);
 */
export async function verifyExportArchive(path: string, options: VerifyExportArchiveOptions = {}): Promise<ExportArchiveVerdict> {
  try {
    const head = await readHead(path);
    if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return await verifyZip(path, options);
    if (head.length >= 4 && head.readUInt32LE(0) === 0x06054b50) return await verifyZip(path, options);
    const gzipped = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    if (options.publicKey !== undefined) {
      throw new Problem(basename(path), 'a JSON export carries no signature; only ZIP archives are signed');
    }
    return await verifyJsonDocument(path, gzipped);
  } catch (err) {
    if (err instanceof Problem) return { ok: false, file: err.file, problem: err.message };
    if (err instanceof ZipFormatError) return { ok: false, file: err.file ?? basename(path), problem: err.message };
    if (err instanceof JsonDocumentError) return { ok: false, file: basename(path), problem: err.message };
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return { ok: false, file: path, problem: `cannot be read (${code})` };
    // Anything else a damaged archive makes the reading fail with.
    return { ok: false, file: basename(path), problem: `cannot be read as an export archive (${(err as Error).message})` };
  }
}

async function readHead(path: string): Promise<Buffer> {
  const fd = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(4);
    const { bytesRead } = await fd.read(buffer, 0, 4, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await fd.close();
  }
}

function publicKeyOf(key: KeyObject | string): KeyObject {
  const object = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  if (object.asymmetricKeyType !== 'ed25519') throw new Problem('--key', `is not an Ed25519 key (its type is ${object.asymmetricKeyType ?? 'secret'}); archives are signed with Ed25519`);
  return object;
}

/** Ajv for JSON Schema 2020-12 with its formats; loaded on first use, not when the library loads. */
async function newAjv(): Promise<Ajv2020> {
  const [{ default: Ajv }, { default: addFormats }] = await Promise.all([import('ajv/dist/2020'), import('ajv-formats')]);
  const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: true });
  addFormats(ajv);
  return ajv;
}

function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Problem(file, 'is not valid JSON');
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

async function verifyZip(path: string, options: VerifyExportArchiveOptions): Promise<ExportArchiveVerdict> {
  const publicKey = options.publicKey !== undefined ? publicKeyOf(options.publicKey) : undefined;
  const zip = await ZipFileReader.open(path);
  try {
    const byName = new Map(zip.entries.map((e) => [e.name, e]));
    const manifestEntry = byName.get('manifest.json');
    if (!manifestEntry) throw new Problem('manifest.json', 'is missing from the archive');
    const manifestBytes = await zip.readEntry(manifestEntry, MAX_MANIFEST);
    const manifest = parseJson(manifestBytes, 'manifest.json') as Record<string, any>;
    if (!manifest || typeof manifest !== 'object' || !Array.isArray(manifest.categories)) {
      throw new Problem('manifest.json', 'has no "categories" list: it is not the manifest of an export');
    }

    // The signature first: a manifest that is not the service's makes every other check moot.
    const signatureEntry = byName.get(MANIFEST_SIGNATURE_FILE);
    const signed = manifest.signature !== undefined || signatureEntry !== undefined;
    let signature: 'valid' | 'unchecked' | 'unsigned' = signed ? 'unchecked' : 'unsigned';
    if (signed && !signatureEntry) throw new Problem(MANIFEST_SIGNATURE_FILE, 'is missing, though manifest.json says it is signed');
    if (signed && manifest.signature?.algorithm !== 'Ed25519') {
      throw new Problem('manifest.json', 'does not say it is signed with Ed25519 ("signature": { "algorithm": "Ed25519" }), though manifest.sig is present');
    }
    if (publicKey) {
      if (!signatureEntry) throw new Problem('manifest.json', 'is not signed, but a key was given to check its signature');
      const text = (await zip.readEntry(signatureEntry, 4096)).toString('ascii').trim();
      const bytes = Buffer.from(text, 'base64');
      if (bytes.length !== 64 || bytes.toString('base64') !== text || !verifySignature(null, manifestBytes, publicKey, bytes)) {
        throw new Problem('manifest.json', 'its signature does not match the key given: the manifest was changed, or it was signed with another key');
      }
      signature = 'valid';
    }

    const described = new Map<string, ManifestFile>();
    const schemaOf = new Map<string, string>();
    for (const [i, c] of (manifest.categories as ManifestFile[]).entries()) {
      if (!c || typeof c.file !== 'string' || typeof c.sha256 !== 'string' || !isCount(c.rows) || !isCount(c.bytes)) {
        throw new Problem('manifest.json', `categories[${i}] lacks its file, rows, bytes or sha256`);
      }
      if (described.has(c.file)) throw new Problem('manifest.json', `lists ${c.file} twice`);
      described.set(c.file, c);
      if (typeof c.schema === 'string') schemaOf.set(c.file, c.schema);
    }
    // README.txt and the schemas, with their checksums (manifests before `files` did not list them).
    const files = Array.isArray(manifest.files) ? (manifest.files as { path?: unknown; bytes?: unknown; sha256?: unknown }[]) : undefined;
    for (const [i, f] of (files ?? []).entries()) {
      if (!f || typeof f.path !== 'string' || typeof f.sha256 !== 'string' || !isCount(f.bytes)) {
        throw new Problem('manifest.json', `files[${i}] lacks its path, bytes or sha256`);
      }
      if (described.has(f.path)) throw new Problem('manifest.json', `lists ${f.path} twice`);
      described.set(f.path, { file: f.path, bytes: f.bytes, sha256: f.sha256 });
    }
    for (const a of Array.isArray(manifest.attachments) ? (manifest.attachments as ManifestFile[]) : []) {
      const file = (a as { path?: unknown }).path;
      if (typeof file === 'string' && typeof a.sha256 === 'string') described.set(file, { ...a, file, bytes: a.size });
    }
    // A file cut or failed mid-way is in the archive as far as it was read; the manifest's `missing` names it.
    const partial = new Set(
      (Array.isArray(manifest.missing) ? (manifest.missing as { path?: unknown }[]) : []).map((m) => m?.path).filter((p): p is string => typeof p === 'string'),
    );
    for (const file of described.keys()) if (!byName.has(file)) throw new Problem(file, 'is listed in manifest.json but missing from the archive');
    for (const schema of schemaOf.values()) if (!byName.has(schema)) throw new Problem(schema, 'is listed in manifest.json but missing from the archive');
    for (const entry of zip.entries) {
      const known =
        described.has(entry.name) ||
        partial.has(entry.name) ||
        entry.name === 'manifest.json' ||
        (entry.name === MANIFEST_SIGNATURE_FILE && signed) ||
        (!files && (entry.name === 'README.txt' || /^schemas\/[^/]+\.schema\.json$/.test(entry.name)));
      if (!known) throw new Problem(entry.name, 'is in the archive but not described by manifest.json');
    }

    const ajv = await newAjv();
    for (const entry of zip.entries) {
      if (entry.name.startsWith('schemas/')) {
        const schema = parseJson(await zip.readEntry(entry, MAX_SMALL_FILE), entry.name);
        try {
          ajv.addSchema(schema as object, entry.name);
        } catch (err) {
          throw new Problem(entry.name, `is not a valid JSON Schema (${(err as Error).message})`);
        }
      } else if (!described.has(entry.name) && entry.name !== 'manifest.json') {
        // README.txt, and manifest.sig when no key is given: read for their CRC.
        await drain(await zip.openEntry(entry));
      }
    }
    let rows = 0;
    let categories = 0;
    // README.txt and the schemas before the rows: a changed schema is named as such, not by the rows it no longer fits.
    const byKind = [...zip.entries].sort((a, b) => Number(described.get(a.name)?.rows !== undefined) - Number(described.get(b.name)?.rows !== undefined));
    for (const entry of byKind) {
      const listed = described.get(entry.name);
      if (!listed) continue;
      const schema = schemaOf.get(entry.name);
      const validate = schema ? ajv.getSchema(schema) : undefined;
      const found = await checkFile(await zip.openEntry(entry), entry, validate);
      if (listed.bytes !== undefined && found.bytes !== listed.bytes) throw new Problem(entry.name, `is ${found.bytes} bytes, manifest.json says ${listed.bytes}`);
      if (found.sha256 !== listed.sha256) throw new Problem(entry.name, `its sha256 is ${found.sha256}, manifest.json says ${listed.sha256}`);
      if (found.rows !== undefined && listed.rows !== undefined && found.rows !== listed.rows) {
        throw new Problem(entry.name, `holds ${found.rows} rows, manifest.json says ${listed.rows}`);
      }
      if (listed.rows !== undefined) {
        rows += listed.rows;
        categories++;
      }
    }
    const summary = manifest.summary as { rows?: unknown; categories?: unknown; byCategory?: Record<string, unknown> } | undefined;
    if (summary && (summary.rows !== rows || summary.categories !== categories)) {
      throw new Problem('manifest.json', `its summary says ${String(summary.categories)} categories and ${String(summary.rows)} rows; its files hold ${categories} and ${rows}`);
    }
    for (const c of manifest.categories as ManifestFile[]) {
      if (summary?.byCategory && c.name !== undefined && summary.byCategory[c.name] !== c.rows) {
        throw new Problem('manifest.json', `its summary gives ${c.name} ${String(summary.byCategory[c.name])} rows, its entry ${c.rows}`);
      }
    }
    return {
      ok: true,
      format: 'zip',
      categories,
      rows,
      sha256: await fileSha256(path),
      signature,
      ...(typeof manifest.signature?.keyId === 'string' ? { keyId: manifest.signature.keyId } : {}),
    };
  } finally {
    await zip.close().catch(() => undefined);
  }
}
