/**
 * Bull's lock settings on the export queue: the library's short defaults, the host's
 * `BullModule.forRoot({ settings })` over them, the `lockDuration`/`stalledInterval` options
 * over both, and none of it on the host's other queues.
 */
import { BullModule, getQueueToken } from '@nestjs/bull';
import type { BullRootModuleOptions } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AdvancedSettings, Queue } from 'bull';
import { DATA_EXPORT_ENTITIES, EXPORT_QUEUE, ExportModule, ExportModuleOptions, InvalidExportOptionsError } from 'nestjs-data-export';
import { resolveExportOptions } from '../../lib/options/validate-export-options.util';
import { dataSourceOptions, REDIS_URL } from '../utils/databases';
import { testRedisPrefix } from '../utils/global-setup';
import { TEST_SECRET } from '../utils/test-app';

/** Boots an API-only host and returns the settings of the export queue and of a queue of its own. */
async function settingsOf(host: BullRootModuleOptions['settings'] | undefined, options: Partial<ExportModuleOptions> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(dataSourceOptions('sqlite', [...DATA_EXPORT_ENTITIES])),
      BullModule.forRoot({ url: REDIS_URL, prefix: testRedisPrefix('qs'), ...(host ? { settings: host } : {}) }),
      BullModule.registerQueue({ name: 'host-queue' }),
      ExportModule.forRoot({ secret: TEST_SECRET, worker: false, http: false, ...options }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const settings = (name: string) => ({ ...(app.get<Queue>(getQueueToken(name)) as unknown as { settings: AdvancedSettings }).settings });
  const result = { exports: settings(EXPORT_QUEUE), host: settings('host-queue') };
  await app.close();
  return result;
}

describe('Bull lock settings of the export queue', () => {
  it('are short by default (8 s lock renewed every 4 s, stall check every 4 s); the host’s other queues keep Bull’s', async () => {
    const { exports, host } = await settingsOf(undefined);
    expect(exports).toMatchObject({ lockDuration: 8000, lockRenewTime: 4000, stalledInterval: 4000, maxStalledCount: 1 });
    expect(host).toMatchObject({ lockDuration: 30000, stalledInterval: 30000 });
  });

  it('come from the host’s BullModule.forRoot settings where it gives them, merged with ours (not replaced)', async () => {
    const { exports, host } = await settingsOf({ lockDuration: 20000, maxStalledCount: 2, drainDelay: 7 });
    expect(exports).toMatchObject({ lockDuration: 20000, lockRenewTime: 10000, stalledInterval: 4000, maxStalledCount: 2, drainDelay: 7 });
    expect(host).toMatchObject({ lockDuration: 20000, stalledInterval: 30000, maxStalledCount: 2 });
  });

  it('given as ExportModule options, win over the host’s for the export queue only', async () => {
    const { exports, host } = await settingsOf(
      { lockDuration: 60000, lockRenewTime: 20000, stalledInterval: 60000, maxStalledCount: 2 },
      { lockDuration: '3s', stalledInterval: '1500ms' },
    );
    // The host's renewal time (20 s) is longer than the 3 s lock: Bull's half of it applies.
    expect(exports).toMatchObject({ lockDuration: 3000, lockRenewTime: 1500, stalledInterval: 1500, maxStalledCount: 2 });
    expect(host).toMatchObject({ lockDuration: 60000, lockRenewTime: 20000, stalledInterval: 60000 });
  });

  it('refuses a lock or stall check that is not a duration, or too short to renew', () => {
    const resolve = (options: Partial<ExportModuleOptions>) => () => resolveExportOptions({ secret: TEST_SECRET, ...options });
    expect(resolve({ lockDuration: 'soon' as never })).toThrow(InvalidExportOptionsError);
    expect(resolve({ lockDuration: '200ms' })).toThrow(/lockDuration/);
    expect(resolve({ stalledInterval: -1 })).toThrow(/stalledInterval/);
    expect(resolve({ lockDuration: '2s', stalledInterval: '1s' })()).toMatchObject({ lockDurationMs: 2000, stalledIntervalMs: 1000 });
  });
});
