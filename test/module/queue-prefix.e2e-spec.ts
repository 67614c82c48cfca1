import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { EXPORT_QUEUE, ExportStatus } from 'nestjs-data-export';
import { REDIS_URL } from '../utils/databases';
import { createTestApp, deleteRedisKeys, TestApp, testRedisPrefix, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner', email: 'owner-a@team-a.example' };

describe('the prefix option keeps the export queue under its own Redis keys', () => {
  let t: TestApp | undefined;
  const prefix = testRedisPrefix('p');
  afterEach(async () => {
    await t?.close();
    await deleteRedisKeys([prefix]);
  });

  it('with redis: the queue and its jobs live under <prefix>:data-export', async () => {
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, noBullRoot: true, exportOptions: { redis: REDIS_URL, prefix } });
    await seedHelpDesk(t.dataSource, 1);
    const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
    const view = await t.service.request(OWNER, {});
    expect((await waitForExport(t.dataSource, view.id)).status).toBe(ExportStatus.Completed);
    const keys = await queue.client.keys(`${prefix}:${EXPORT_QUEUE}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(await queue.client.keys(`bull:${EXPORT_QUEUE}:${view.id}*`)).toEqual([]);
  });

  it('refuses an empty prefix at boot', async () => {
    await expect(createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, noBullRoot: true, exportOptions: { redis: REDIS_URL, prefix: ' ' } })).rejects.toThrow(/"prefix" must be a non-empty string/);
  });
});
