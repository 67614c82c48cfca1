import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ExportError, InvalidExportOptionsError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import { ByteRange, ExportStorage, ExportStorageStat } from '../storage/export.storage';
import { LocalDiskStorage } from '../storage/local-disk.storage';
import { parseDuration } from '../common/duration.util';
import type { ExportModuleOptions, ResolvedExportOptions } from './export-module-options.interface';
import { DEFAULT_EXPORT_OPTIONS } from './export-options.defaults';
import { DEFAULT_QUEUE_LOCK, resolveExportOptions } from './validate-export-options.util';

const SECRET = 's'.repeat(32);

/** Resolves `{ secret, ...options }`. */
const resolve = (options: Record<string, unknown> = {}): ResolvedExportOptions =>
  resolveExportOptions({ secret: SECRET, ...options } as ExportModuleOptions);

/** The error resolving `options` throws (fails the test when it throws none). */
function refusal(options: unknown): Error {
  try {
    resolveExportOptions(options as ExportModuleOptions);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected a refusal of ${JSON.stringify(options)}, got none`);
}

function expectRefusal(options: unknown, message: string): void {
  const err = refusal(options);
  expect(err).toBeInstanceOf(InvalidExportOptionsError);
  expect(err).toBeInstanceOf(ExportError);
  expect(err.name).toBe('InvalidExportOptionsError');
  expect(err.message).toBe(message);
}

const H = 3_600_000;

describe('resolveExportOptions', () => {
  describe('defaults', () => {
    it('gives every option its default', () => {
      const resolved = resolve();
      expect(resolved).toEqual({
        secret: SECRET,
        redis: undefined,
        storage: expect.any(LocalDiskStorage),
        encryption: true,
        batchSize: 5000,
        compressionLevel: 6,
        concurrency: 1,
        attempts: 3,
        audit: { retentionMs: 400 * 24 * 3_600_000 },
        retryDelayMs: 5_000,
        downloadTtlMs: 24 * H,
        cooldownMs: 24 * H,
        allowedRoles: ['owner', 'admin'],
        confirmation: { required: false, ttlMs: 24 * H },
        baseUrl: 'http://localhost:3000',
        downloadRequiresPrincipal: false,
        maxDownloads: undefined,
        linkTtlMs: 24 * H,
        staleAfterMs: 10 * 60_000,
        stallTimeoutMs: 60_000,
        shutdownTimeoutMs: 10_000,
        sweepIntervalMs: 60_000,
        lockDurationMs: undefined,
        stalledIntervalMs: undefined,
        progressIntervalMs: 1_000,
        enqueueTimeoutMs: 5_000,
        principal: expect.any(Function),
        coverage: { required: false, excluded: {}, notes: [] },
        about: {},
        csv: { neutralizeFormulas: true, bom: false },
      });
      expect((resolved.storage as LocalDiskStorage).root).toBe(path.resolve('./var/exports'));
    });

    it('the default principal is req.user', () => {
      const user = { userId: 'u1', accountId: 'a1', role: 'owner' };
      const { principal } = resolve();
      expect(principal({ user })).toBe(user);
      expect(principal({})).toBeUndefined();
      expect(principal(undefined)).toBeUndefined();
    });

    it('the queue lock defaults are 8 s and 4 s, applied when the queue is built', () => {
      expect(DEFAULT_QUEUE_LOCK).toEqual({ lockDuration: '8s', stalledInterval: '4s' });
      expect(Object.isFrozen(DEFAULT_QUEUE_LOCK)).toBe(true);
      expect(parseDuration(DEFAULT_QUEUE_LOCK.lockDuration)).toBe(8_000);
      expect(parseDuration(DEFAULT_QUEUE_LOCK.stalledInterval)).toBe(4_000);
    });

    it("every option's JSDoc @default is the value it resolves to", () => {
      const source = readFileSync(path.join(__dirname, 'export-module-options.interface.ts'), 'utf8');
      const body = /export interface ExportModuleOptions \{([\s\S]*?)\n\}/.exec(source)![1];
      const documented = new Map<string, string | undefined>();
      for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\??:/g)) {
        documented.set(m[2], /@default (.+)/.exec(m[1])?.[1].trim());
      }
      const resolved = resolve() as unknown as Record<string, unknown>;
      const checked: string[] = [];
      for (const [name, value] of documented) {
        if (value === undefined) continue;
        checked.push(name);
        if (/^'.*'$/.test(value)) {
          const text = value.slice(1, -1);
          const ms = parseDuration(text);
          if (name === 'lockDuration' || name === 'stalledInterval') {
            expect([name, text]).toEqual([name, DEFAULT_QUEUE_LOCK[name]]);
          } else if (ms !== undefined) {
            expect([name, resolved[`${name}Ms`]]).toEqual([name, ms]);
          } else {
            expect([name, resolved[name]]).toEqual([name, text]);
          }
        } else if (/^(true|false|\d+)$/.test(value)) {
          expect([name, resolved[name]]).toEqual([name, JSON.parse(value)]);
        } else if (/^\[.*\]$/.test(value)) {
          expect([name, resolved[name]]).toEqual([name, JSON.parse(value.replace(/'/g, '"'))]);
        }
      }
      // The rest are spelt out: checked above in 'gives every option its default'.
      expect(documented.get('storage')).toBe("new LocalDiskStorage('./var/exports')");
      expect(documented.get('confirmation')).toBe("{ required: false, ttl: '24h' }");
      expect(documented.get('maxDownloads')).toBe('undefined (unlimited)');
      expect(documented.get('principal')).toBe('(req) => req.user');
      expect(documented.get('coverage')).toBe('{ required: false, excluded: {}, notes: [] }');
      expect(documented.get('about')).toBe('{}');
      expect(documented.get('csv')).toBe('{ neutralizeFormulas: true, bom: false }');
      expect(checked.length).toBeGreaterThanOrEqual(20);
      // Every option but the secret documents a default; redis and prefix fall back to the host's BullModule.forRoot(), in prose.
      expect([...documented].filter(([, v]) => v === undefined).map(([k]) => k).sort()).toEqual(['prefix', 'redis', 'secret']);
    });

    it('agrees with DEFAULT_EXPORT_OPTIONS', () => {
      const D = DEFAULT_EXPORT_OPTIONS;
      const r = resolve();
      expect(r.batchSize).toBe(D.batchSize);
      expect(r.compressionLevel).toBe(D.compressionLevel);
      expect(r.cooldownMs).toBe(parseDuration(D.cooldown));
      expect(r.stallTimeoutMs).toBe(parseDuration(D.stallTimeout));
      expect(r.confirmation.ttlMs).toBe(parseDuration(D.confirmationTtl));
      expect(r.allowedRoles).toEqual(D.allowedRoles);
      expect(Object.isFrozen(D)).toBe(true);
    });

    it('returns a frozen object whose role list is a copy', () => {
      const roles = ['owner'];
      const resolved = resolve({ allowedRoles: roles });
      roles.push('agent');
      expect(resolved.allowedRoles).toEqual(['owner']);
      expect(Object.isFrozen(resolved)).toBe(true);
      expect(Object.isFrozen(resolved.allowedRoles)).toBe(true);
      expect(Object.isFrozen(resolved.confirmation)).toBe(true);
    });
  });

  describe('values given', () => {
    it('keeps what is valid', () => {
      class MemoryStorage extends ExportStorage {
        async put(_key: string, _body: Readable): Promise<ExportStorageStat> {
          return { size: 0, modifiedAt: new Date(0) };
        }
        async get(_key: string, _range?: ByteRange): Promise<Readable> {
          throw new Error('empty');
        }
        async stat(): Promise<ExportStorageStat | null> {
          return null;
        }
        async delete(): Promise<void> {}
      }
      const storage = new MemoryStorage();
      const principal = (req: any) => req.session?.principal;
      const resolved = resolve({
        redis: 'redis://127.0.0.1:6379/2',
        storage,
        encryption: false,
        batchSize: 1,
        compressionLevel: 0,
        concurrency: 64,
        attempts: 100,
        allowedRoles: ['support'],
        confirmation: { required: true, ttl: '2h' },
        baseUrl: 'https://app.example.com/api/',
        downloadRequiresPrincipal: true,
        maxDownloads: 3,
        principal,
      });
      expect(resolved).toMatchObject({
        redis: 'redis://127.0.0.1:6379/2',
        encryption: false,
        batchSize: 1,
        compressionLevel: 0,
        concurrency: 64,
        attempts: 100,
        allowedRoles: ['support'],
        confirmation: { required: true, ttlMs: 2 * H },
        baseUrl: 'https://app.example.com/api',
        downloadRequiresPrincipal: true,
        maxDownloads: 3,
      });
      expect(resolved.storage).toBe(storage);
      expect(resolved.principal).toBe(principal);
    });

    it('accepts ioredis options and a storage-like object that does not extend ExportStorage', () => {
      const like = { put: async () => ({}), get: async () => ({}), stat: async () => null, delete: async () => {} };
      const redis = { host: '127.0.0.1', port: 6380 };
      const resolved = resolve({ redis, storage: like });
      expect(resolved.redis).toBe(redis);
      expect(resolved.storage).toBe(like);
    });

    it('takes a secret of exactly 32 characters', () => {
      expect(resolveExportOptions({ secret: 'k'.repeat(32) }).secret).toBe('k'.repeat(32));
    });

    it.each<[unknown, boolean]>([
      [false, false],
      [true, true],
      [undefined, true],
    ])('encryption %p resolves to %p', (encryption, expected) => {
      expect(resolve({ encryption }).encryption).toBe(expected);
    });

    it.each<[unknown, boolean]>([
      [true, true],
      [false, false],
      [undefined, false],
    ])('downloadRequiresPrincipal %p resolves to %p', (value, expected) => {
      expect(resolve({ downloadRequiresPrincipal: value }).downloadRequiresPrincipal).toBe(expected);
    });

    it.each<[string, unknown]>([
      ['https://app.example.com', 'https://app.example.com'],
      ['https://app.example.com/', 'https://app.example.com'],
      ['http://localhost:8080/api//', 'http://localhost:8080/api'],
      ['HTTPS://App.Example.com/Api', 'https://app.example.com/Api'],
    ])('baseUrl %p resolves to %p', (baseUrl, expected) => {
      expect(resolve({ baseUrl }).baseUrl).toBe(expected);
    });
  });

  describe('refusals, each naming the option', () => {
    it.each<[string, (value: unknown) => Record<string, unknown>]>([
      ['encryption', (value) => ({ encryption: value })],
      ['downloadRequiresPrincipal', (value) => ({ downloadRequiresPrincipal: value })],
      ['confirmation.required', (value) => ({ confirmation: { required: value } })],
      ['csv.neutralizeFormulas', (value) => ({ csv: { neutralizeFormulas: value } })],
      ['csv.bom', (value) => ({ csv: { bom: value } })],
    ])('%s takes only true or false: "true" from an environment variable is refused, never read as off', (name, options) => {
      for (const value of ['true', 'false', 1, 0, null]) {
        expect(() => resolve(options(value))).toThrow(
          new InvalidExportOptionsError(ExportMessages.badFlag(name, value)),
        );
      }
    });

    it.each([undefined, null, 'secret', 42])('options %p are missing', (options) => {
      expectRefusal(options, ExportMessages.missingOptions());
    });

    it.each([undefined, '', 42, null])('secret %p is missing', (secret) => {
      expectRefusal({ secret }, ExportMessages.missingSecret());
    });

    it('a secret shorter than 32 characters, without quoting it', () => {
      const secret = 'hunter2-but-not-long-enough-31c';
      expect(secret).toHaveLength(31);
      expectRefusal({ secret }, ExportMessages.shortSecret(32, 31));
      expect(refusal({ secret }).message).not.toContain(secret);
      expect(refusal({ secret }).message).toContain('"secret"');
    });

    it.each<[string, unknown]>([
      ['a string', './var/exports'],
      ['an object missing delete', { put() {}, get() {}, stat() {} }],
      ['a class instance without the methods', new Date(0)],
    ])('storage that is %s', (_what, storage) => {
      expectRefusal({ secret: SECRET, storage }, ExportMessages.unknownStorage(storage));
      expect(refusal({ secret: SECRET, storage }).message).toContain('"storage"');
    });

    it.each([42, true])('redis %p', (redis) => {
      expectRefusal({ secret: SECRET, redis }, ExportMessages.badRedis());
    });

    it.each<[string, unknown]>([
      ['a string', 'owner'],
      ['an empty role', ['owner', '']],
      ['a non-string role', ['owner', 1]],
    ])('allowedRoles with %s', (_what, allowedRoles) => {
      expectRefusal({ secret: SECRET, allowedRoles }, ExportMessages.badRoles());
    });

    it.each([null, 'csv', true, []])('csv %p', (csv) => {
      expectRefusal({ secret: SECRET, csv }, ExportMessages.badCsv());
    });

    it('csv keeps each switch given and defaults the other', () => {
      expect(resolve({ csv: { neutralizeFormulas: false } }).csv).toEqual({ neutralizeFormulas: false, bom: false });
      expect(resolve({ csv: { bom: true } }).csv).toEqual({ neutralizeFormulas: true, bom: true });
    });

    it('principal that is not a function', () => {
      expectRefusal({ secret: SECRET, principal: 'user' }, ExportMessages.badPrincipal());
    });

    const INTEGERS: [name: string, min: number, max: number][] = [
      ['batchSize', 1, 1_000_000],
      ['compressionLevel', 0, 9],
      ['concurrency', 1, 64],
      ['attempts', 1, 100],
      ['maxDownloads', 1, 1_000_000],
    ];
    describe.each(INTEGERS)('%s (an integer from %p to %p)', (name, min, max) => {
      it('accepts both bounds', () => {
        const r = (v: number) => (resolve({ [name]: v }) as unknown as Record<string, unknown>)[name];
        expect(r(min)).toBe(min);
        expect(r(max)).toBe(max);
      });

      it.each([min - 1, max + 1, min + 0.5, '5', NaN, null])('refuses %p', (value) => {
        expectRefusal({ secret: SECRET, [name]: value }, ExportMessages.optionOutOfRange(name, min, max, value));
        expect(refusal({ secret: SECRET, [name]: value }).message).toContain(`"${name}"`);
      });
    });

    const DURATIONS: [option: string, resolvedKey: string][] = [
      ['retryDelay', 'retryDelayMs'],
      ['downloadTtl', 'downloadTtlMs'],
      ['cooldown', 'cooldownMs'],
      ['linkTtl', 'linkTtlMs'],
      ['staleAfter', 'staleAfterMs'],
      ['stallTimeout', 'stallTimeoutMs'],
      ['shutdownTimeout', 'shutdownTimeoutMs'],
      ['sweepInterval', 'sweepIntervalMs'],
      ['progressInterval', 'progressIntervalMs'],
      ['enqueueTimeout', 'enqueueTimeoutMs'],
      ['lockDuration', 'lockDurationMs'],
      ['stalledInterval', 'stalledIntervalMs'],
    ];
    describe.each(DURATIONS)('%s (a duration)', (name, key) => {
      it.each<[unknown, number]>([
        [90_000, 90_000],
        ['90s', 90_000],
        ['30m', 30 * 60_000],
        ['2h', 2 * H],
        ['7d', 7 * 24 * H],
      ])('%p is %p ms', (value, ms) => {
        expect((resolve({ [name]: value }) as unknown as Record<string, unknown>)[key]).toBe(ms);
      });

      it.each(['24 hours', '24', 0, -1, '', {}, '-5m'])('refuses %p', (value) => {
        expectRefusal({ secret: SECRET, [name]: value }, ExportMessages.badDuration(name, value));
        expect(refusal({ secret: SECRET, [name]: value }).message).toContain(`"${name}"`);
      });
    });

    it.each(DURATIONS.filter(([name]) => name !== 'lockDuration' && name !== 'stalledInterval'))(
      '%s: null means the default, as when omitted',
      (name, key) => {
        const get = (o: Record<string, unknown>) => (resolve(o) as unknown as Record<string, unknown>)[key];
        expect(get({ [name]: null })).toBe(get({}));
      },
    );

    it('confirmation.ttl is a duration named as such', () => {
      expect(resolve({ confirmation: { ttl: '15m' } }).confirmation).toEqual({ required: false, ttlMs: 15 * 60_000 });
      expectRefusal(
        { secret: SECRET, confirmation: { required: true, ttl: 'soon' } },
        ExportMessages.badDuration('confirmation.ttl', 'soon'),
      );
    });

    it.each([
      ['ftp://files.example.com'],
      ['localhost:3000'],
      ['app.example.com'],
      ['https://app.example.com/api?tenant=1'],
      ['https://app.example.com/#top'],
      [''],
      [42],
    ])('baseUrl %p', (baseUrl) => {
      expectRefusal({ secret: SECRET, baseUrl }, ExportMessages.badBaseUrl(baseUrl));
    });
  });

  describe('the lock and stall options', () => {
    it('lockDuration and stalledInterval are left unset unless given, so the host settings can win', () => {
      const resolved = resolve();
      expect(resolved.lockDurationMs).toBeUndefined();
      expect(resolved.stalledIntervalMs).toBeUndefined();
      expect(resolve({ lockDuration: '30s', stalledInterval: '15s' })).toMatchObject({
        lockDurationMs: 30_000,
        stalledIntervalMs: 15_000,
      });
    });

    it('lockDuration is at least 1 s', () => {
      expect(resolve({ lockDuration: 1000 }).lockDurationMs).toBe(1000);
      expect(resolve({ lockDuration: '1s' }).lockDurationMs).toBe(1000);
      expectRefusal({ secret: SECRET, lockDuration: 999 }, ExportMessages.badDuration('lockDuration', 999));
      expectRefusal({ secret: SECRET, lockDuration: '500ms' }, ExportMessages.badDuration('lockDuration', '500ms'));
    });

    it('stalledInterval is at least 100 ms', () => {
      expect(resolve({ stalledInterval: 100 }).stalledIntervalMs).toBe(100);
      expect(resolve({ stalledInterval: '0.1s' }).stalledIntervalMs).toBe(100);
      expectRefusal({ secret: SECRET, stalledInterval: 99 }, ExportMessages.badDuration('stalledInterval', 99));
      expectRefusal({ secret: SECRET, stalledInterval: '50ms' }, ExportMessages.badDuration('stalledInterval', '50ms'));
    });

    it('stallTimeout and staleAfter default to 1 min and 10 min and take any positive duration', () => {
      expect(resolve()).toMatchObject({ stallTimeoutMs: 60_000, staleAfterMs: 600_000 });
      expect(resolve({ stallTimeout: 250, staleAfter: '1s' })).toMatchObject({ stallTimeoutMs: 250, staleAfterMs: 1000 });
    });
  });

  it('an over-long bad value is shortened in the message', () => {
    const baseUrl = `https://app.example.com/?token=${'x'.repeat(60)}`;
    const { message } = refusal({ secret: SECRET, baseUrl });
    expect(message).toContain('"https://app.example.com/?token=xxxxxxxxx…"');
    expect(message).not.toContain('x'.repeat(20));
  });
  describe('audit', () => {
    it('is on by default, off with false, and checks its retention', () => {
      expect(resolve({ audit: { retention: '30d' } }).audit).toEqual({ retentionMs: 30 * 24 * 3_600_000 });
      expect(resolve({ audit: false }).audit).toBeUndefined();
      expect(() => resolve({ audit: { retention: 'soon' } })).toThrow(/audit\.retention/);
      expect(() => resolve({ audit: 'yes' })).toThrow(/"audit" must be false/);
    });
  });
});
