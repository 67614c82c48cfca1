import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { OTHER_TENANT_CANARY, REDACTED_CANARY, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { insertBulkMessages } from '../fixtures/help-desk.seed';
import { fakeAuth } from '../utils/fake-auth';

const OWNER: ExportPrincipal = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const BODY_CANARY = 'CANARY-BODY-at-rest-51e0';

describe('encryption at rest', () => {
  let t: TestApp;

  async function boot(encryption: boolean) {
    // Stored (level 0) so the archive spans many 64 KiB segments.
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, configure: fakeAuth, exportOptions: { compressionLevel: 0, encryption } });
    await seedHelpDesk(t.dataSource, 3);
    await insertBulkMessages(t.dataSource, 3000, (i) => `${BODY_CANARY} message ${i} ${'lorem ipsum '.repeat(8)}`);
    const view = await t.service.request(OWNER);
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.status).toBe(ExportStatus.Completed);
    return { row, file: join(t.storageDir, row.storageKey!) };
  }
  afterEach(() => t?.close());

  it('stores ciphertext only; downloads decrypt on the fly, ranges included, to the archive that verifies', async () => {
    const { row, file } = await boot(true);
    expect(row.encryption).toBe('aes-256-gcm-stream-v1');
    const stored = readFileSync(file);
    expect(stored.length).toBeGreaterThan(4 * 65536);
    expect(stored.subarray(0, 4).toString('latin1')).toBe('NDX1');
    for (const canary of [BODY_CANARY, REDACTED_CANARY, OTHER_TENANT_CANARY, 'manifest.json', 'PK\u0003\u0004']) {
      expect(stored.includes(canary)).toBe(false);
    }

    const whole = await downloadArchive(t, row.id, OWNER);
    expect(whole.length).toBe(row.size);
    expect(createHash('sha256').update(whole).digest('hex')).toBe(row.sha256);
    expect(whole.includes(BODY_CANARY)).toBe(true);
    expect((await readZip(whole)).get('manifest.json')).toBeDefined();
    for (const [start, end] of [[0, 99], [65530, 65545], [65536, 131071], [100_000, whole.length - 1], [whole.length - 1, whole.length - 1]]) {
      expect((await downloadArchive(t, row.id, OWNER, { start, end })).equals(whole.subarray(start, end + 1))).toBe(true);
    }
  });

  it('fails the download when one stored byte is flipped, never delivering wrong bytes', async () => {
    const { row, file } = await boot(true);
    const stored = readFileSync(file);
    const whole = await downloadArchive(t, row.id, OWNER);
    const flipped = Buffer.from(stored);
    flipped[Math.floor(stored.length / 2)] ^= 0x40;
    writeFileSync(file, flipped);
    await expect(downloadArchive(t, row.id, OWNER)).rejects.toThrow();

    // Over HTTP the response is cut short: the client sees an error, not a file that passes.
    const { downloadUrl } = await t.service.get(OWNER, row.id);
    const u = new URL(downloadUrl!);
    const res = await request(t.app.getHttpServer())
      .get(`${u.pathname}${u.search}`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
        r.on('error', () => cb(null, Buffer.concat(chunks)));
      })
      .catch((err: Error) => err);
    const received = res instanceof Error ? Buffer.alloc(0) : (res.body as Buffer);
    expect(received.length).toBeLessThan(whole.length);
    expect(received.equals(whole.subarray(0, received.length))).toBe(true);
  });

  it.each(['truncated', 'extended'])('refuses a %s stored file as a missing archive (410), and serves nothing', async (how) => {
    const { row, file } = await boot(true);
    const stored = readFileSync(file);
    if (how === 'truncated') truncateSync(file, stored.length - 1);
    else writeFileSync(file, Buffer.concat([stored, Buffer.from('x')]));
    await expect(downloadArchive(t, row.id, OWNER)).rejects.toMatchObject({ code: 'EXPORT_ARCHIVE_MISSING' });
  });

  it('stores the plain archive when encryption is off', async () => {
    const { row, file } = await boot(false);
    expect(row.encryption).toBeNull();
    const stored = readFileSync(file);
    expect(stored.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    expect((await downloadArchive(t, row.id, OWNER)).equals(stored)).toBe(true);
  });
});
