import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, UploadPartCommand } from '@aws-sdk/client-s3';
import { BullModule } from '@nestjs/bull';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  DATA_EXPORT_ENTITIES,
  DataExport,
  ExportModule,
  ExportService,
  ExportStatus,
  ExportStorageStat,
  ExportSweeper,
  InvalidExportOptionsError,
} from 'nestjs-data-export';
import { S3ExportStorage, S3StorageError } from 'nestjs-data-export/s3';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { insertBulkMessages, OTHER_TENANT_CANARY, REDACTED_CANARY, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { DATABASES, dataSourceOptions, REDIS_URL } from '../utils/databases';
import { fakeAuth } from '../utils/fake-auth';
import { S3TestServer, startS3Server } from '../utils/s3-server';
import { createTestApp, deleteRedisKeys, downloadArchive, TEST_SECRET, TestApp, TestClock, testRedisPrefix, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { recordFault } from '../faults/fault-matrix';
import { binary } from '../utils/binary-body';
import { buildVerifyCli, VerifyCli } from '../utils/verify-cli';
import { AttachedDocument, NOTES } from '../attachments/attachment.entities';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;
const OWNER_A = 'owner-a:team-a:owner';
const owner = (accountId: string) => ({ userId: `owner-${accountId}`, accountId, role: 'owner' });

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `n` bytes that are the same on every call (a counter hashed), so ranges can be checked. */
function pattern(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) createHash('sha256').update(String(i)).digest().copy(out, off);
  return out;
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('S3ExportStorage on a real S3-compatible server (Swift with s3api)', () => {
  let server: S3TestServer;

  beforeAll(async () => {
    server = await startS3Server();
  }, 60_000);
  afterAll(() => server?.stop());

  /** The keys under `prefix` in the bucket. */
  async function keys(prefix: string): Promise<string[]> {
    const res = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!);
  }
  /** The keys of unfinished multipart uploads under `prefix`. */
  async function uploads(prefix: string): Promise<string[]> {
    const res = await server.client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: prefix }));
    return (res.Uploads ?? []).map((u) => u.Key!);
  }
  const storageAt = (prefix: string, extra: Partial<ConstructorParameters<typeof S3ExportStorage>[0]> = {}) =>
    new S3ExportStorage({ bucket: server.bucket, prefix, client: server.clientConfig, partSize: 5 * MiB, ...extra });
  const freshPrefix = (name: string) => `${name}-${randomUUID().slice(0, 8)}/`;

  describe('the storage', () => {
    it('puts, reads whole and by range, stats and deletes an object under its prefix', async () => {
      const prefix = freshPrefix('unit');
      const storage = storageAt(prefix);
      const bytes = pattern(100_000);
      const stat = await storage.put('one.abc.zip', Readable.from([bytes.subarray(0, 4000), bytes.subarray(4000)]));
      expect(stat.size).toBe(bytes.length);
      expect(Math.abs(stat.modifiedAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await keys(prefix)).toEqual([`${prefix}one.abc.zip`]);

      expect((await readAll(await storage.get('one.abc.zip'))).equals(bytes)).toBe(true);
      expect((await readAll(await storage.get('one.abc.zip', { start: 10, end: 20 }))).equals(bytes.subarray(10, 21))).toBe(true);
      const last = await readAll(await storage.get('one.abc.zip', { start: bytes.length - 1, end: bytes.length - 1 }));
      expect(last.equals(bytes.subarray(-1))).toBe(true);
      expect(await storage.stat('one.abc.zip')).toEqual({ size: bytes.length, modifiedAt: expect.any(Date) });

      await storage.delete('one.abc.zip');
      expect(await keys(prefix)).toEqual([]);
      expect(await storage.stat('one.abc.zip')).toBeNull();
      await expect(storage.get('one.abc.zip')).rejects.toMatchObject({ name: 'S3StorageError', code: 'ENOENT', status: 404 });
      await expect(storage.get('one.abc.zip', { start: 0, end: 5 })).rejects.toMatchObject({ code: 'ENOENT' });
      // Deleting what is absent is not an error.
      await storage.delete('one.abc.zip');
    });

    it('streams a large body as a multipart upload that is invisible until it completes', async () => {
      const prefix = freshPrefix('multipart');
      const storage = storageAt(prefix);
      const bytes = pattern(11 * MiB + 12345);
      const body = new PassThrough();
      const put = storage.put('big.abc.zip', body);
      body.write(bytes.subarray(0, 6 * MiB));
      // The first part is on its way: the upload exists, the object does not yet.
      await until('the multipart upload', async () => (await uploads(prefix)).length === 1);
      expect(await storage.stat('big.abc.zip')).toBeNull();
      expect(await keys(prefix)).toEqual([]);
      body.end(bytes.subarray(6 * MiB));
      expect((await put).size).toBe(bytes.length);

      const head = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}big.abc.zip`, Range: 'bytes=0-0' }));
      await readAll(head.Body as Readable);
      expect(head.ETag).toMatch(/-3"$/); // three parts of 5 MiB at most
      const across = { start: 5 * MiB - 100, end: 10 * MiB + 100 };
      const got = await readAll(await storage.get('big.abc.zip', across));
      expect(got.equals(bytes.subarray(across.start, across.end + 1))).toBe(true);
      expect((await readAll(await storage.get('big.abc.zip'))).equals(bytes)).toBe(true);
      await storage.delete('big.abc.zip');
      expect(await keys(prefix)).toEqual([]);
    });

    it('a body that errors mid-upload rejects the put, and leaves no object and no multipart upload', async () => {
      const prefix = freshPrefix('body-error');
      const storage = storageAt(prefix);
      const body = new PassThrough();
      const put = storage.put('broken.abc.zip', body);
      body.write(pattern(7 * MiB));
      await until('the multipart upload', async () => (await uploads(prefix)).length === 1);
      body.destroy(new Error('the archive writer failed'));
      const started = Date.now();
      await expect(put).rejects.toBeInstanceOf(S3StorageError);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(body.destroyed).toBe(true);
      expect(await keys(prefix)).toEqual([]);
      // Swift drops an aborted upload about a second later.
      await until('the aborted upload to go', async () => (await uploads(prefix)).length === 0);
    });

    it('refuses wrong credentials with a 403 that names neither key nor secret, and destroys the body', async () => {
      const prefix = freshPrefix('denied');
      const storage = storageAt(prefix, {
        client: { ...server.clientConfig, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'not-the-secret-5e1f' } },
      });
      const body = Readable.from([pattern(1000)]);
      const err = (await storage.put('denied.abc.zip', body).catch((e: unknown) => e)) as S3StorageError;
      expect(err).toBeInstanceOf(S3StorageError);
      expect(err.status).toBe(403);
      expect(err.code).toMatch(/^[A-Za-z]+$/);
      expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toMatch(/not-the-secret|tester|Signature=|X-Amz-/);
      expect(body.destroyed).toBe(true);
      await expect(storage.stat('denied.abc.zip')).rejects.toMatchObject({ status: 403 });
      expect(await keys(prefix)).toEqual([]);
      storage.onApplicationShutdown();
    });

    it('a frozen server fails the put after socketTimeout instead of hanging, and leaves no object', async () => {
      const prefix = freshPrefix('frozen');
      const storage = storageAt(prefix, { socketTimeout: 1500, client: { ...server.clientConfig, maxAttempts: 1 } });
      const body = new PassThrough();
      const put = storage.put('frozen.abc.zip', body);
      put.catch(() => undefined);
      body.write(pattern(6 * MiB));
      await until('the multipart upload', async () => (await uploads(prefix)).length === 1);
      server.freezeProxy();
      let started = 0;
      try {
        started = Date.now();
        body.end(pattern(1000));
        const err = await put.catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'S3StorageError', status: undefined });
        expect(Date.now() - started).toBeLessThan(8000);
        const stat = Date.now();
        await expect(storage.stat('frozen.abc.zip')).rejects.toBeInstanceOf(S3StorageError);
        expect(Date.now() - stat).toBeLessThan(4000);
      } finally {
        server.thawProxy();
      }
      expect(await keys(prefix)).toEqual([]);
      await storage.delete('frozen.abc.zip');
      await until('the upload to go', async () => (await uploads(prefix)).length === 0);
      expect(await keys(prefix)).toEqual([]);
    }, 30_000);

    it('delete also aborts the unfinished upload a killed worker left under the key', async () => {
      const prefix = freshPrefix('orphan');
      const storage = storageAt(prefix);
      const Key = `${prefix}dead.abc.zip`;
      const { UploadId } = await server.client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key }));
      await server.client.send(new UploadPartCommand({ Bucket: server.bucket, Key, UploadId, PartNumber: 1, Body: pattern(5 * MiB) }));
      // Another key's upload with the same beginning stays.
      const other = await server.client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: `${Key}.other` }));
      expect((await uploads(prefix)).sort()).toEqual([Key, `${Key}.other`]);
      await storage.delete('dead.abc.zip');
      await until('the orphaned upload to go', async () => (await uploads(prefix)).join() === `${Key}.other`);
      await server.client.send(
        new (await import('@aws-sdk/client-s3')).AbortMultipartUploadCommand({ Bucket: server.bucket, Key: `${Key}.other`, UploadId: other.UploadId }),
      );
    });

    it('validates its options and keys', async () => {
      const bad: unknown[] = [{ bucket: '' }, { bucket: 'b', partSize: MiB }, { bucket: 'b', queueSize: 0 }, { bucket: 'b', prefix: '../up' }, { bucket: 'b', socketTimeout: 0 }];
      for (const options of bad) {
        expect(() => new S3ExportStorage(options as ConstructorParameters<typeof S3ExportStorage>[0])).toThrow(InvalidExportOptionsError);
      }
      const storage = storageAt(freshPrefix('keys'));
      await expect(storage.stat('../escape')).rejects.toBeInstanceOf(InvalidExportOptionsError);
      await expect(storage.get('/absolute')).rejects.toBeInstanceOf(InvalidExportOptionsError);
    });

    it('is its own entry point: the package root loads no AWS SDK module', () => {
      const script = `
        require('reflect-metadata');
        require('./lib');
        const aws = Object.keys(require.cache).filter((k) => k.includes('@aws-sdk'));
        require('./lib/s3');
        const after = Object.keys(require.cache).filter((k) => k.includes('@aws-sdk'));
        console.log(JSON.stringify({ root: aws.length, s3: after.length }));`;
      const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
        cwd: `${__dirname}/../..`,
        encoding: 'utf8',
      });
      const { root, s3 } = JSON.parse(out.trim().split('\n').at(-1)!);
      expect(root).toBe(0);
      expect(s3).toBeGreaterThan(0);
    }, 60_000);
  });

  describe.each(DATABASES)('a full export on %s', (db) => {
    let t: TestApp;
    let clock: TestClock;
    let http: ReturnType<typeof request>;
    const prefix = freshPrefix(`export-${db}`);

    beforeAll(async () => {
      clock = new TestClock();
      t = await createTestApp(db, {
        entities: HELP_DESK_ENTITIES,
        clock,
        configure: fakeAuth,
        exportOptions: { storage: storageAt(prefix), downloadTtl: '24h', cooldown: 1, baseUrl: 'https://app.example.com/api' },
      });
      await seedHelpDesk(t.dataSource, 3);
      await insertBulkMessages(t.dataSource, 1500, (i) => `${i} ${randomBytes(48).toString('hex')}`);
      http = request(t.app.getHttpServer());
    }, 120_000);
    afterAll(() => t?.close());

    const pathOf = (url: string) => {
      const u = new URL(url);
      return `${u.pathname.replace(/^\/api/, '')}${u.search}`;
    };

    it('stores the archive encrypted in the bucket, serves it whole and by Range over HTTP, and deletes it', async () => {
      const created = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(202);
      const row = await waitForExport(t.dataSource, created.body.id);
      expect({ status: row.status, error: row.error }).toEqual({ status: ExportStatus.Completed, error: null });
      expect(await keys(prefix)).toEqual([`${prefix}${row.storageKey}`]);

      const view = await http.get(`/exports/${row.id}`).set('x-user', OWNER_A).expect(200);
      const path = pathOf(view.body.downloadUrl);
      const whole = await http.get(path).buffer(true).parse(binary).expect(200);
      const bytes = whole.body as Buffer;
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
      const entries = await readZip(bytes);
      expect(entries.has('manifest.json')).toBe(true);
      expect(entries.get('messages.ndjson')!.toString('utf8').split('\n').length).toBeGreaterThan(1500);

      // Resumable: a download cut at an odd byte continues where it stopped.
      const cut = Math.floor(bytes.length / 3) + 7;
      const first = await http.get(path).set('Range', `bytes=0-${cut - 1}`).buffer(true).parse(binary).expect(206);
      const rest = await http.get(path).set('Range', `bytes=${cut}-`).buffer(true).parse(binary).expect(206);
      expect(rest.headers['content-range']).toBe(`bytes ${cut}-${bytes.length - 1}/${bytes.length}`);
      expect(Buffer.concat([first.body, rest.body]).equals(bytes)).toBe(true);

      // At rest: ciphertext, neither the ZIP nor any of its text.
      const raw = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}${row.storageKey}` }));
      const stored = await readAll(raw.Body as Readable);
      expect(stored.length).toBeGreaterThan(bytes.length);
      expect(stored.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))).toBe(false);
      expect(stored.includes(Buffer.from('manifest.json'))).toBe(false);
      expect(stored.includes(bytes.subarray(0, 64))).toBe(false);
      for (const canary of [REDACTED_CANARY, OTHER_TENANT_CANARY]) expect(bytes.includes(Buffer.from(canary))).toBe(false);

      await http.delete(`/exports/${row.id}`).set('x-user', OWNER_A).expect(200);
      expect(await keys(prefix)).toEqual([]);
      await http.get(path).expect(410);
    });

    it('an object deleted or cut behind its back answers 410 EXPORT_ARCHIVE_MISSING, not a broken download', async () => {
      for (const damage of ['deleted', 'cut'] as const) {
        clock.advance(2000);
        const view = await t.service.request(owner(TEAM_A));
        const row = await waitForExport(t.dataSource, view.id);
        expect(row.status).toBe(ExportStatus.Completed);
        const Key = `${prefix}${row.storageKey}`;
        if (damage === 'deleted') {
          await server.client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key }));
        } else {
          const raw = await readAll((await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key }))).Body as Readable);
          await server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: raw.subarray(0, raw.length - 100) }));
        }
        const path = pathOf((await http.get(`/exports/${row.id}`).set('x-user', OWNER_A).expect(200)).body.downloadUrl);
        const res = await http.get(path).set('Range', 'bytes=0-99').expect(410);
        expect(res.body.code).toBe('EXPORT_ARCHIVE_MISSING');
        expect((await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: row.id })).status).toBe(ExportStatus.Expired);
        await server.client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key }));
      }
    });

    it('removes the object when the download window ends', async () => {
      clock.advance(2000);
      const view = await t.service.request({ userId: 'owner-a', accountId: TEAM_A, role: 'owner' });
      const row = await waitForExport(t.dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Completed);
      expect(await keys(prefix)).toEqual([`${prefix}${row.storageKey}`]);
      expect((await downloadArchive(t, row.id, owner(TEAM_A), { start: 0, end: 3 })).toString('latin1')).toBe('PK\x03\x04');
      clock.advance(25 * HOUR);
      await t.app.get(ExportSweeper).sweep();
      expect((await t.dataSource.getRepository(DataExport).findOneByOrFail({ id: row.id })).status).toBe(ExportStatus.Expired);
      expect(await keys(prefix)).toEqual([]);
    });
  });

  describe.each(['sqlite', 'postgres'] as const)('an export with attachments on %s', (db) => {
    let t: TestApp;
    let cli: VerifyCli;
    let dir: string;
    const prefix = freshPrefix(`attach-${db}`);

    beforeAll(async () => {
      cli = await buildVerifyCli();
      dir = mkdtempSync(join(tmpdir(), 'data-export-s3-attach-'));
      t = await createTestApp(db, { entities: [AttachedDocument], configure: fakeAuth, exportOptions: { storage: storageAt(prefix), cooldown: 1 } });
      // Small files, one over its limit (a URL), a missing one and one failing half-way, hostile names.
      await t.dataSource.getRepository(AttachedDocument).save(
        ['plain', 'hostile', 'faults'].map((kind) => ({ id: `doc-${kind}`, teamId: TEAM_A, kind, fileA: 'a', fileB: 'b', fileC: 'c' })),
      );
    }, 120_000);
    afterAll(async () => {
      await t?.close();
      cli?.remove();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('lands in the bucket encrypted, downloads resumably through the API, and verifies', async () => {
      const http = request(t.app.getHttpServer());
      const created = await http.post('/exports').set('x-user', OWNER_A).send({}).expect(202);
      const row = await waitForExport(t.dataSource, created.body.id, 60_000);
      expect({ status: row.status, error: row.error }).toEqual({ status: ExportStatus.Completed, error: null });
      expect(await keys(prefix)).toEqual([`${prefix}${row.storageKey}`]);

      // Resumed: two Range requests give the archive whose sha256 the export states.
      const link = new URL((await http.get(`/exports/${row.id}`).set('x-user', OWNER_A).expect(200)).body.downloadUrl);
      const path = `${link.pathname}${link.search}`;
      const size = Number(row.size);
      const cut = Math.floor(size / 2) + 3;
      const first = await http.get(path).set('Range', `bytes=0-${cut - 1}`).buffer(true).parse(binary).expect(206);
      const rest = await http.get(path).set('Range', `bytes=${cut}-`).buffer(true).parse(binary).expect(206);
      const bytes = Buffer.concat([first.body as Buffer, rest.body as Buffer]);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);

      const entries = await readZip(bytes);
      const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8'));
      const inArchive = (manifest.attachments as { path?: string; url?: string; sha256?: string }[]).filter((a) => a.path);
      expect(inArchive.length).toBeGreaterThanOrEqual(5);
      for (const a of inArchive) {
        // Sanitized names: one folder per row, nothing climbing out of it.
        expect(a.path).toMatch(/^attachments\/documents\/doc-[a-z]+\/[^/]+$/);
        expect(a.path).not.toContain('..');
        expect(createHash('sha256').update(entries.get(a.path!)!).digest('hex')).toBe(a.sha256);
      }
      expect((manifest.attachments as { url?: string }[]).some((a) => a.url === 'https://files.example.test/big.mov')).toBe(true);
      expect((manifest.missing as { rowId: string }[]).map((m) => m.rowId).sort()).toEqual(['doc-faults', 'doc-faults']);

      // At rest: ciphertext, no file name of the archive readable in it.
      const raw = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}${row.storageKey}` }));
      const stored = await readAll(raw.Body as Readable);
      expect(stored.includes(Buffer.from('manifest.json'))).toBe(false);
      expect(stored.includes(Buffer.from('attachments/documents'))).toBe(false);
      expect(stored.includes(NOTES.subarray(0, 64))).toBe(false);

      // Whoever receives it can check it offline: every sha256 in the manifest matches.
      const file = join(dir, `${db}.zip`);
      writeFileSync(file, bytes);
      const verdict = await cli.run(['verify', file]);
      expect(verdict).toMatchObject({ code: 0 });
      expect(verdict.stdout).toMatch(/^OK /);
    });
  });

  it('with encryption off (left to the bucket), stores the plain archive and serves ranges of it (SQLite)', async () => {
    const prefix = freshPrefix('plain');
    const t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, exportOptions: { storage: storageAt(prefix), encryption: false } });
    try {
      await seedHelpDesk(t.dataSource, 3);
      const row = await waitForExport(t.dataSource, (await t.service.request(owner(TEAM_A))).id);
      expect({ status: row.status, encryption: row.encryption }).toEqual({ status: ExportStatus.Completed, encryption: null });
      const raw = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}${row.storageKey}` }));
      const stored = await readAll(raw.Body as Readable);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(row.sha256);
      const whole = await downloadArchive(t, row.id, owner(TEAM_A));
      expect(whole.equals(stored)).toBe(true);
      const middle = await downloadArchive(t, row.id, owner(TEAM_A), { start: 100, end: 199 });
      expect(middle.equals(stored.subarray(100, 200))).toBe(true);
    } finally {
      await t.close();
    }
  });

  describe('an upload that fails (PostgreSQL)', () => {
    /** The real storage, whose body stops after `holdAt` bytes until `release()`: a moment to break the server. */
    class HeldS3Storage extends S3ExportStorage {
      holdAt = Infinity;
      held = false;
      private resume?: () => void;
      release(): void {
        this.resume?.();
      }
      override put(key: string, body: Readable): Promise<ExportStorageStat> {
        let seen = 0;
        const gate = new Transform({
          transform: (chunk: Buffer, _enc, done) => {
            seen += chunk.length;
            if (seen < this.holdAt || this.held) return done(null, chunk);
            this.held = true;
            this.resume = () => done(null, chunk);
          },
        });
        body.on('error', (err) => gate.destroy(err));
        gate.on('error', () => body.destroy());
        return super.put(key, body.pipe(gate));
      }
    }

    it('wrong credentials: failed within seconds, slot free, nothing in the bucket, no secret in the error', async () => {
      const prefix = freshPrefix('denied-export');
      const storage = storageAt(prefix, {
        client: { ...server.clientConfig, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'wrong-secret-91ab' } },
      });
      const t = await createTestApp('postgres', { entities: HELP_DESK_ENTITIES, exportOptions: { storage, cooldown: 1 } });
      try {
        await seedHelpDesk(t.dataSource, 3);
        const started = Date.now();
        const view = await t.service.request(owner(TEAM_A));
        const row = await waitForExport(t.dataSource, view.id, 15_000);
        recordFault('S3: wrong credentials', 'postgres', row.status, Date.now() - started);
        expect(Date.now() - started).toBeLessThan(8000);
        expect(row.status).toBe(ExportStatus.Failed);
        expect(row.error).toMatch(/^Export failed while storing the archive \(S3StorageError [A-Za-z]+\)\.$/);
        expect(row.error).not.toMatch(/wrong-secret|tester/);
        expect(row.activeSlot).toBeNull();
        expect(row.storageKey).toBeNull();
        expect(await keys(prefix)).toEqual([]);
      } finally {
        await t.close();
      }
    });

    it('the server stops mid-upload: failed within seconds, slot free, no object once it is back', async () => {
      const prefix = freshPrefix('stopped');
      const storage = new HeldS3Storage({ bucket: server.bucket, prefix, client: { ...server.clientConfig, maxAttempts: 2 }, partSize: 5 * MiB });
      storage.holdAt = 6 * MiB;
      const t = await createTestApp('postgres', { entities: HELP_DESK_ENTITIES, exportOptions: { storage, cooldown: 1, stallTimeout: 30_000 } });
      try {
        await seedHelpDesk(t.dataSource, 3);
        // Random text does not compress: about 9 MiB of archive, two parts.
        await insertBulkMessages(t.dataSource, 12_000, () => randomBytes(600).toString('base64'));
        const view = await t.service.request(owner(TEAM_A));
        await until('the held upload', async () => storage.held && (await uploads(prefix)).length === 1, 30_000);
        await server.stopProxy();
        const stopped = Date.now();
        storage.release();
        const row = await waitForExport(t.dataSource, view.id, 20_000);
        recordFault('S3: server stopped mid-upload', 'postgres', row.status, Date.now() - stopped);
        expect(Date.now() - stopped).toBeLessThan(8000);
        expect(row.status).toBe(ExportStatus.Failed);
        expect(row.error).toMatch(/^Export failed while storing the archive \(S3StorageError [A-Za-z0-9]+\)\.$/);
        expect(row.activeSlot).toBeNull();
        await server.startProxy();
        expect(await keys(prefix)).toEqual([]);
        // The abort could not reach the server: the upload's parts are still there, until the
        // storage's next put removes them.
        expect(await uploads(prefix)).toHaveLength(1);

        // The next export of the account, with the server back, completes.
        storage.holdAt = Infinity;
        const again = await waitForExport(t.dataSource, (await t.service.request(owner(TEAM_A))).id, 30_000);
        expect(again.status).toBe(ExportStatus.Completed);
        expect(await keys(prefix)).toEqual([`${prefix}${again.storageKey}`]);
        await until('the orphaned upload to go', async () => (await uploads(prefix)).length === 0);
      } finally {
        await server.startProxy().catch(() => undefined);
        await t.close();
      }
    }, 90_000);
  });

  describe('two workers on one Redis prefix share the bucket (PostgreSQL)', () => {
    /** Counts puts per key: each export is stored exactly once, by one of the workers. */
    class CountingS3Storage extends S3ExportStorage {
      readonly puts: string[] = [];
      shutdowns = 0;
      override put(key: string, body: Readable): Promise<ExportStorageStat> {
        this.puts.push(key);
        return super.put(key, body);
      }
      override onApplicationShutdown(): void {
        this.shutdowns++;
        super.onApplicationShutdown();
      }
    }
    const prefix = freshPrefix('shared');
    const bullPrefix = testRedisPrefix('s3');
    const apps: INestApplication[] = [];
    const storages: CountingS3Storage[] = [];

    async function boot(first: boolean): Promise<INestApplication> {
      const storage = new CountingS3Storage({ bucket: server.bucket, prefix, client: server.clientConfig, partSize: 5 * MiB });
      storages.push(storage);
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ ...dataSourceOptions('postgres', [...HELP_DESK_ENTITIES, ...DATA_EXPORT_ENTITIES]), dropSchema: first, synchronize: first }),
          BullModule.forRoot({ url: REDIS_URL, prefix: bullPrefix }),
          ExportModule.forRoot({ secret: TEST_SECRET, storage, attempts: 1, cooldown: 1 }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      apps.push(app);
      return app;
    }

    afterAll(async () => {
      for (const app of apps) await app.close();
      await deleteRedisKeys([bullPrefix]);
    });

    it('each export is stored once, by either worker, and downloads through the other app', async () => {
      const one = await boot(true);
      const two = await boot(false);
      const dataSource = one.get(DataSource);
      await seedHelpDesk(dataSource, 3);
      const accounts = [TEAM_A, 'team-b', 'team-c', 'team-d', 'team-e', 'team-f'];
      const views = await Promise.all(accounts.map((a, i) => (i % 2 ? two : one).get(ExportService).request(owner(a))));
      const rows = await Promise.all(views.map((v) => waitForExport(dataSource, v.id, 30_000)));
      for (const row of rows) {
        expect({ status: row.status, error: row.error, attempts: row.attempts }).toEqual({ status: ExportStatus.Completed, error: null, attempts: 1 });
      }
      const puts = [...storages[0].puts, ...storages[1].puts].sort();
      expect(puts).toEqual(rows.map((r) => r.storageKey!).sort());
      expect((await keys(prefix)).sort()).toEqual(rows.map((r) => `${prefix}${r.storageKey}`).sort());

      // Whichever worker stored it, each app's storage reads it: Range through the other app too.
      for (const [i, row] of rows.entries()) {
        for (const app of [one, two]) {
          const t = { service: app.get(ExportService) } as TestApp;
          const whole = await downloadArchive(t, row.id, owner(accounts[i]));
          expect(createHash('sha256').update(whole).digest('hex')).toBe(row.sha256);
          const tail = await downloadArchive(t, row.id, owner(accounts[i]), { start: 5, end: whole.length - 1 });
          expect(tail.equals(whole.subarray(5))).toBe(true);
        }
        expect((await readZip(await downloadArchive({ service: two.get(ExportService) } as TestApp, row.id, owner(accounts[i])))).has('manifest.json')).toBe(true);
      }

      // Each app's shutdown destroys the client its storage created.
      await two.close();
      apps.splice(apps.indexOf(two), 1);
      expect(storages.map((s) => s.shutdowns)).toEqual([0, 1]);
    }, 90_000);
  });
});
