/**
 * Bull can deliver a job twice: when its lock lapses while the first run is alive but stalled,
 * another worker takes the job. Here the second delivery is added by hand while the first run
 * is working. Each run fences its updates with its own storage key, so the run that started last
 * builds the archive, the other stops at its next batch and removes its file, and the export
 * ends with one valid archive.
 */
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DataExport, EXPORT_QUEUE, ExportStatus, LocalDiskStorage } from 'nestjs-data-export';
import { EXPORT_JOB } from '../../lib/common/export.constants';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { insertBulkMessages, seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { createTestApp, downloadArchive, TestApp, waitForExport } from '../utils/test-app';
import { readZip } from '../utils/zip';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner' };
const ROWS = 20_000;

/** The local disk storage, recording the key of every `put` (one per run). */
class RecordingStorage extends LocalDiskStorage {
  readonly puts: string[] = [];
  override put(key: string, body: Readable) {
    this.puts.push(key);
    return super.put(key, body);
  }
}

describe('an export job delivered twice (PostgreSQL)', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'data-export-twice-'));
  const storage = new RecordingStorage(dir);

  beforeAll(async () => {
    // Small batches: each run takes long enough for the second to start while the first works.
    t = await createTestApp('postgres', { entities: HELP_DESK_ENTITIES, exportOptions: { batchSize: 50, concurrency: 2, storage } });
    await seedHelpDesk(t.dataSource);
    await insertBulkMessages(t.dataSource, ROWS);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends with one valid archive: the later run completes it, the earlier one stops and removes its file', async () => {
    const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
      const view = await t.service.request(OWNER);
      // The second delivery, once the first run has made progress.
      const repo = t.dataSource.getRepository(DataExport);
      const deadline = Date.now() + 20_000;
      while (((await repo.findOneByOrFail({ id: view.id })).rowsDone ?? 0) < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const again = await queue.add(EXPORT_JOB, { exportId: view.id }, { jobId: `${view.id}-again` });
      await again.finished();
      await (await queue.getJob(view.id))!.finished();

      const row = await waitForExport(t.dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Completed);
      // Both runs wrote, each under its own key, and the later one's key is the export's.
      expect(storage.puts).toHaveLength(2);
      expect(new Set(storage.puts).size).toBe(2);
      expect(row.storageKey).toBe(storage.puts[1]);
      // One file, nothing partial, and it is the archive the row describes.
      expect(readdirSync(dir)).toEqual([row.storageKey]);
      const entries = await readZip(await downloadArchive(t, view.id, OWNER));
      const messages = entries.get('messages.ndjson')!.toString('utf8').trim().split('\n');
      expect(new Set(messages.map((l) => JSON.parse(l).id)).size).toBe(messages.length);
      expect(JSON.parse(entries.get('manifest.json')!.toString('utf8')).summary.byCategory.messages).toBe(messages.length);
      expect(messages.length).toBeGreaterThanOrEqual(ROWS);
  });
});
