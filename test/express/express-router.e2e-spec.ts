import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataExport, ExportStatus } from 'nestjs-data-export';
import { DatabaseName } from '../utils/databases';
import { deleteRedisKeys, testRedisPrefix, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { ExpressHost, startExpressHost } from './express-host';

const OWNER_A = 'owner-a:team-a:owner';
const AGENT_A = 'agent-a:team-a:agent';

/** Reads a binary response body into a Buffer. */
function binary(res: request.Response, cb: (err: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

const DBS: DatabaseName[] = ['sqlite', 'postgres'];

describe.each(DBS)('createExportRouter in a plain Express app on %s', (db) => {
  let host: ExpressHost;
  let storageDir: string;
  let prefix: string;

  beforeEach(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'data-export-express-'));
    prefix = testRedisPrefix('x');
    host = await startExpressHost(db, storageDir, prefix);
  });
  afterEach(async () => {
    await host?.feature.close();
    await new Promise((r) => host?.server.close(r));
    await host?.dataSource.destroy();
    await deleteRedisKeys([prefix]);
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('401 without req.user, 403 for an agent; the host routes around the router stay its own', async () => {
    const http = request(host.server);
    expect((await http.post('/api/exports').send({}).expect(401)).body).toEqual({ statusCode: 401, code: 'EXPORT_UNAUTHENTICATED', message: expect.any(String) });
    expect((await http.post('/api/exports').set('x-user', AGENT_A).send({}).expect(403)).body.code).toBe('EXPORT_FORBIDDEN');
    expect((await http.post('/api/exports').set('x-user', OWNER_A).set('content-type', 'text/plain').send('x').expect(415)).body.code).toBe('EXPORT_UNSUPPORTED_MEDIA_TYPE');
    expect((await http.get('/health').expect(200)).body).toEqual({ ok: true });
    expect((await host.feature.service.list({ userId: 'owner-a', accountId: 'team-a', role: 'owner' })).length).toBe(0);
  });

  it('requests, follows progress, and downloads through links under the mount path, Range included', async () => {
    const http = request(host.server);
    const created = await http.post('/api/exports').set('x-user', OWNER_A).send({ format: 'zip' }).expect(202);
    const progress = await http.get(`/api/exports/${created.body.id}`).set('x-user', OWNER_A).expect(200);
    expect(['confirmed', 'queued', 'processing', 'completed']).toContain(progress.body.status);
    const row = await waitForExport(host.dataSource, created.body.id);
    expect(row.status).toBe(ExportStatus.Completed);
    const view = await http.get(`/api/exports/${row.id}`).set('x-user', OWNER_A).expect(200);
    expect(view.body.downloadUrl).toMatch(new RegExp(`^https://host\\.example/api/exports/${row.id}/download\\?token=`));
    expect((await http.get('/api/exports').set('x-user', OWNER_A).expect(200)).body.map((v: { id: string }) => v.id)).toEqual([row.id]);

    const url = new URL(view.body.downloadUrl);
    const path = url.pathname + url.search;
    const whole = await http.get(path).buffer(true).parse(binary).expect(200);
    const bytes = whole.body as Buffer;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
    expect((await readZip(bytes)).has('manifest.json')).toBe(true);
    const mid = Math.floor(bytes.length / 2);
    const first = await http.get(path).set('Range', `bytes=0-${mid - 1}`).buffer(true).parse(binary).expect(206);
    expect(first.headers['content-range']).toBe(`bytes 0-${mid - 1}/${bytes.length}`);
    const second = await http.get(path).set('Range', `bytes=${mid}-`).buffer(true).parse(binary).expect(206);
    expect(Buffer.concat([first.body, second.body]).equals(bytes)).toBe(true);
    await http.head(path).expect(200);
    expect((await host.dataSource.getRepository(DataExport).findOneByOrFail({ id: row.id })).downloadCount).toBe(3);
  });

  it('close() stops the worker and the queue and leaves the host\'s DataSource open', async () => {
    await host.feature.close();
    expect(host.dataSource.isInitialized).toBe(true);
    expect(await host.dataSource.getRepository(DataExport).count()).toBe(0);
  });
});

describe('a plain Express process using the router', () => {
  it('exits on its own within a few seconds of close()', async () => {
    const prefix = testRedisPrefix('x');
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(__dirname, 'express-host.child.ts')],
      { env: { ...process.env, EXPORT_CHILD_PREFIX: prefix, TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const exitedAt = Date.now();
    await deleteRedisKeys([prefix]);
    expect([code, err.slice(-2000)]).toEqual([0, expect.any(String)]);
    const report = JSON.parse(out.trim().split('\n').pop()!);
    expect(report).toMatchObject({ status: 'completed', dataSourceOpen: true });
    // The figure for the report: from close() to the process's exit.
    console.log(`child exited ${exitedAt - report.closedAt} ms after close() (${exitedAt - started} ms in all)`);
    expect(exitedAt - report.closedAt).toBeLessThan(5_000);
  }, 90_000);
});
