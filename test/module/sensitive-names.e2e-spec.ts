import { LoggerService } from '@nestjs/common';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Exportable, ExportField, ExportPrincipal, ExportStatus } from 'nestjs-data-export';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { parseNdjson, readZip } from '../utils/zip';

const TEAM = 'team-names';
const OWNER: ExportPrincipal = { userId: 'owner-n', accountId: TEAM, role: 'owner' };
/** Planted in every column whose name means a credential: must never reach the archive. */
const CANARY = 'CANARY-BY-NAME-41c2';

/** Every log line of the app, with its context. */
class CapturingLogger implements LoggerService {
  readonly lines: { message: unknown; context: unknown }[] = [];
  private add = (message: unknown, context?: unknown) => this.lines.push({ message, context });
  log = this.add;
  error = this.add;
  warn = this.add;
  debug = this.add;
  verbose = this.add;
  fatal = this.add;
}

/** Credentials whose names the rule did not catch before, next to fields that only look like them. */
@Exportable({ category: 'devices', scope: 'teamId' })
@Entity('names_devices')
class Device {
  @PrimaryColumn({ type: 'integer' }) id: number;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Column({ type: 'varchar', length: 200 }) authKey: string;
  @Column({ type: 'varchar', length: 200 }) privKey: string;
  @Column({ type: 'varchar', length: 200 }) otpauthUrl: string;
  @Column({ type: 'varchar', length: 200 }) pinCode: string;
  @Column({ type: 'varchar', length: 200 }) sessionId: string;
  @Column({ type: 'varchar', length: 200 }) recoveryKeys: string;
  @Column({ type: 'varchar', length: 200 }) publicKey: string;
  @Column({ type: 'boolean' }) pinned: boolean;
  @Column({ type: 'integer' }) sessionCount: number;
  @Column({ type: 'varchar', length: 200 }) authorName: string;
  /** A PIN's length is not the PIN: the field opts in. */
  @ExportField({ sensitive: false }) @Column({ type: 'integer' }) pinLength: number;
}

describe('credentials redacted by their names', () => {
  let t: TestApp;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    t = await createTestApp('sqlite', { entities: [Device], logger });
    await t.dataSource.getRepository(Device).insert({
      id: 1,
      teamId: TEAM,
      authKey: `${CANARY}-auth`,
      privKey: `${CANARY}-priv`,
      otpauthUrl: `otpauth://totp/acme:ada?secret=${CANARY}&issuer=acme`,
      pinCode: `${CANARY}-pin`,
      sessionId: `${CANARY}-session`,
      recoveryKeys: `${CANARY}-recovery`,
      publicKey: 'ssh-ed25519 AAAAC3Nz ada@laptop',
      pinned: true,
      sessionCount: 12,
      authorName: 'Ada',
      pinLength: 6,
    });
  });
  afterAll(() => t?.close());

  it('boot names each field redacted by its name, and only those', () => {
    const lines = logger.lines.filter((l) => String(l.message).startsWith('Redacted by name'));
    expect(lines).toEqual([
      {
        message:
          'Redacted by name (opt a field in with @ExportField({ sensitive: false })): ' +
          'Device.authKey, Device.privKey, Device.otpauthUrl, Device.pinCode, Device.sessionId, Device.recoveryKeys',
        context: 'ExportModule',
      },
    ]);
  });

  it('the archive holds the ordinary fields and none of the credentials', async () => {
    const view = await t.service.request(OWNER, {});
    const row = await waitForExport(t.dataSource, view.id);
    expect(row.error).toBeNull();
    expect(row.status).toBe(ExportStatus.Completed);
    const bytes = await downloadArchive(t, row.id, OWNER);
    const entries = await readZip(bytes);
    expect(parseNdjson(entries.get('devices.ndjson')!)).toEqual([
      { id: 1, teamId: TEAM, publicKey: 'ssh-ed25519 AAAAC3Nz ada@laptop', pinned: true, sessionCount: 12, authorName: 'Ada', pinLength: 6 },
    ]);
    const schema = JSON.parse(entries.get('schemas/devices.schema.json')!.toString('utf8'));
    expect(Object.keys(schema.properties)).toEqual(['id', 'teamId', 'publicKey', 'pinned', 'sessionCount', 'authorName', 'pinLength']);
    for (const entry of [bytes, ...entries.values()]) expect(entry.toString('latin1').includes(CANARY)).toBe(false);
  });
});
