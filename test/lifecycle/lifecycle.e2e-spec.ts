import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, filter, takeWhile, toArray } from 'rxjs';
import {
  DataExport,
  EXPORT_QUEUE,
  ExportNotifier,
  ExportPrincipal,
  ExportStatus,
  ExportSweeper,
} from 'nestjs-data-export';
import { DATABASES } from '../utils/databases';
import { refusalCode } from '../utils/refusal';
import { createTestApp, RecordingNotifier, TestApp, TestClock, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';
import { insertBulkMessages } from '../fixtures/help-desk.seed';

const HOUR = 3_600_000;

/**
 * Removes an export's Bull job once its run has let go of it: the row reads `completed` a moment
 * before the worker's handler returns, and Bull refuses to remove a job that is still locked.
 */
async function removeJob(queue: Queue, id: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    const job = await queue.getJob(id);
    if (!job) return;
    try {
      await job.remove();
      return;
    } catch (err) {
      if (tries >= 100) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
const OWNER: ExportPrincipal = { userId: 'owner-a', accountId: TEAM_A, role: 'owner', email: 'owner@a.example' };


describe.each(DATABASES)('export lifecycle on %s', (db) => {
  let t: TestApp;
  let clock: TestClock;
  let notifier: RecordingNotifier;
  const repo = () => t.dataSource.getRepository(DataExport);

  async function boot(exportOptions = {}) {
    clock = new TestClock();
    t = await createTestApp(db, {
      entities: HELP_DESK_ENTITIES,
      clock,
      exportOptions: { notifier: RecordingNotifier, downloadTtl: '24h', staleAfter: '10m', ...exportOptions },
    });
    notifier = t.app.get(ExportNotifier) as RecordingNotifier;
    await seedHelpDesk(t.dataSource, 3);
  }
  afterEach(() => t?.close());

  describe('with email confirmation', () => {
    beforeEach(() => boot({ confirmation: { required: true, ttl: '24h' } }));

    it('pending → confirmed → processing → completed, with a confirmation link and a ready link', async () => {
      const view = await t.service.request(OWNER);
      expect(view.status).toBe(ExportStatus.Pending);
      expect(notifier.calls.map((c) => c.kind)).toEqual(['confirmationRequested']);
      expect(notifier.calls[0].url).toMatch(new RegExp(`^http://localhost:3000/exports/${view.id}/confirm\\?token=`));
      // Nothing is queued before confirmation.
      const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
      expect(await queue.getJob(view.id)).toBeNull();

      const token = notifier.token('confirmationRequested', view.id);
      expect((await t.service.confirm(view.id, token)).status).toBe(ExportStatus.Confirmed);
      // Opening the link twice is harmless.
      expect(await refusalCode(t.service.confirm(view.id, token))).toBe('ok');
      const done = await waitForExport(t.dataSource, view.id);
      expect(done.status).toBe(ExportStatus.Completed);
      expect(done.confirmedAt).not.toBeNull();
      expect(done.startedAt).not.toBeNull();
      expect(done.expiresAt!.getTime()).toBe(done.completedAt!.getTime() + 24 * HOUR);
      expect(notifier.calls.map((c) => c.kind)).toEqual(['confirmationRequested', 'ready']);
      expect(notifier.calls[1].url).toMatch(new RegExp(`/exports/${view.id}/download\\?token=`));
    });

    it('refuses a bad, foreign or wrong-purpose token with EXPORT_LINK_INVALID and changes nothing', async () => {
      const view = await t.service.request(OWNER);
      const token = notifier.token('confirmationRequested', view.id);
      const [exp, nonce, mac] = token.split('.');
      const flipped = mac[0] === 'A' ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
      for (const bad of [undefined, '', 'garbage', `${exp}.${nonce}.${flipped}`, `${Number(exp) + 1}.${nonce}.${mac}`, token.slice(0, -1), `${token}x`]) {
        expect(await refusalCode(t.service.confirm(view.id, bad))).toBe('EXPORT_LINK_INVALID');
      }
      // A valid token of another export, or of another purpose, is refused too.
      const other = await t.service.request({ ...OWNER, accountId: 'team-z', userId: 'z' });
      expect(await refusalCode(t.service.confirm(view.id, notifier.token('confirmationRequested', other.id)))).toBe('EXPORT_LINK_INVALID');
      expect(await refusalCode(t.service.openDownload(view.id, token))).toBe('EXPORT_LINK_INVALID');
      expect((await repo().findOneByOrFail({ id: view.id })).status).toBe(ExportStatus.Pending);
    });

    it('expires the export when the confirmation link has expired, freeing the account', async () => {
      const view = await t.service.request(OWNER);
      const token = notifier.token('confirmationRequested', view.id);
      clock.advance(24 * HOUR + 1000);
      expect(await refusalCode(t.service.confirm(view.id, token))).toBe('EXPORT_LINK_EXPIRED');
      expect(await repo().findOneByOrFail({ id: view.id })).toMatchObject({ status: ExportStatus.Expired, activeSlot: null });
      expect(await refusalCode(t.service.request(OWNER))).toBe('ok');
    });
  });

  describe('without confirmation', () => {
    beforeEach(() => boot());

    it('cancels a pending or confirmed export, freeing the slot with no cooldown', async () => {
      const view = await t.service.request(OWNER);
      const cancelled = await t.service.cancel(OWNER, view.id);
      expect(cancelled.status).toBe(ExportStatus.Cancelled);
      expect((await repo().findOneByOrFail({ id: view.id })).activeSlot).toBeNull();
      // Cancelling again changes nothing.
      expect((await t.service.cancel(OWNER, view.id)).status).toBe(ExportStatus.Cancelled);
      const next = await t.service.request(OWNER);
      expect((await waitForExport(t.dataSource, next.id)).status).toBe(ExportStatus.Completed);
    });

    it('stops a running job at its next batch and removes its temporary file', async () => {
      await t.close();
      await boot({ batchSize: 1 });
      // Enough rows that the job is still running when the cancel arrives.
      await insertBulkMessages(t.dataSource, 1500, (i) => `bulk ${i}`);
      const started = firstValueFrom(t.service.events$.pipe(filter((e) => e.type === 'status' && e.export.status === ExportStatus.Processing)));
      const view = await t.service.request(OWNER);
      await started;
      await t.service.cancel(OWNER, view.id);
      const row = await waitForExport(t.dataSource, view.id);
      expect(row.status).toBe(ExportStatus.Cancelled);
      // Give the job a moment to notice at its next batch and clean up: its file, then its key.
      const deadline = Date.now() + 10_000;
      const cleaned = async () => readdirSync(t.storageDir).length === 0 && (await repo().findOneByOrFail({ id: view.id })).storageKey === null;
      while (!(await cleaned()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(t.storageDir)).toEqual([]);
      const after = await repo().findOneByOrFail({ id: view.id });
      expect(after.status).toBe(ExportStatus.Cancelled);
      expect(after.rowsDone).toBeLessThan(1500);
      expect(after.storageKey).toBeNull();
    });

    it('deletes a completed export early: the file goes, it becomes expired, the cooldown holds', async () => {
      const view = await t.service.request(OWNER);
      const done = await waitForExport(t.dataSource, view.id);
      expect(existsSync(join(t.storageDir, done.storageKey!))).toBe(true);
      expect((await t.service.cancel(OWNER, view.id)).status).toBe(ExportStatus.Expired);
      expect(existsSync(join(t.storageDir, done.storageKey!))).toBe(false);
      expect(await repo().findOneByOrFail({ id: view.id })).toMatchObject({ activeSlot: null, storageKey: null });
      expect(await refusalCode(t.service.request(OWNER))).toBe('EXPORT_COOLDOWN');
    });

    it('emits status and progress events on events$, without links', async () => {
      const finals = [ExportStatus.Completed, ExportStatus.Failed, ExportStatus.Cancelled, ExportStatus.Expired];
      const seen = firstValueFrom(t.service.events$.pipe(takeWhile((e) => !finals.includes(e.export.status), true), toArray()));
      const view = await t.service.request(OWNER);
      const events = await seen;
      expect(events.every((e) => e.exportId === view.id && e.accountId === TEAM_A)).toBe(true);
      expect(events.map((e) => e.export.status)).toEqual(expect.arrayContaining([ExportStatus.Confirmed, ExportStatus.Processing, ExportStatus.Completed]));
      expect(events[events.length - 1].type).toBe('status');
      expect(JSON.stringify(events)).not.toMatch(/token|downloadUrl/);
    });

    describe('the sweeper', () => {
      it('expires completed exports past their window, deletes files, and is idempotent', async () => {
        const sweeper = t.app.get(ExportSweeper);
        const view = await t.service.request(OWNER);
        const done = await waitForExport(t.dataSource, view.id);
        expect((await sweeper.sweep()).expired).toBe(0);
        clock.advance(24 * HOUR);
        const [a, b] = await Promise.all([sweeper.sweep(), sweeper.sweep()]);
        expect(a.expired + b.expired).toBe(1);
        expect(await repo().findOneByOrFail({ id: view.id })).toMatchObject({ status: ExportStatus.Expired, activeSlot: null, storageKey: null });
        expect(existsSync(join(t.storageDir, done.storageKey!))).toBe(false);
        expect(await sweeper.sweep()).toEqual({ expired: 0, unconfirmed: 0, stale: 0, requeued: 0, filesDeleted: 0, auditPruned: 0 });
      });

      it('expires unconfirmed exports after the confirmation ttl', async () => {
        await t.close();
        await boot({ confirmation: { required: true, ttl: '2h' } });
        const view = await t.service.request(OWNER);
        clock.advance(HOUR);
        expect((await t.app.get(ExportSweeper).sweep()).unconfirmed).toBe(0);
        clock.advance(HOUR);
        expect((await t.app.get(ExportSweeper).sweep()).unconfirmed).toBe(1);
        expect(await repo().findOneByOrFail({ id: view.id })).toMatchObject({ status: ExportStatus.Expired, activeSlot: null });
      });

      it('fails a processing export whose job ended without finishing it after a short grace, not staleAfter (no attempt left)', async () => {
        const sweeper = t.app.get(ExportSweeper);
        const view = await t.service.request(OWNER);
        await waitForExport(t.dataSource, view.id);
        // A run that died on its last attempt, its Bull job completed (or failed) all the same.
        await repo().update({ id: view.id }, { status: ExportStatus.Processing, heartbeatAt: clock.now(), attempts: 1, activeSlot: TEAM_A, storageKey: null });
        clock.advance(1000);
        expect((await sweeper.sweep()).stale).toBe(0);
        clock.advance(60_000);
        const [a, b] = await Promise.all([sweeper.sweep(), sweeper.sweep()]);
        expect(a.stale + b.stale).toBe(1);
        expect(await repo().findOneByOrFail({ id: view.id })).toMatchObject({ status: ExportStatus.Failed, activeSlot: null, error: 'The worker running the export stopped on every attempt.' });
        expect(notifier.calls.filter((c) => c.kind === 'failed').map((c) => c.view.id)).toEqual([view.id]);
      });

      it('fails a processing export whose worker stopped beating while its job stays alive, after staleAfter', async () => {
        const sweeper = t.app.get(ExportSweeper);
        const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
        const view = await t.service.request(OWNER);
        await waitForExport(t.dataSource, view.id);
        // A hung worker: the row stops moving while Bull still has a job of the export.
        await removeJob(queue, view.id);
        await queue.add('export', { v: 1, exportId: view.id }, { jobId: view.id, delay: HOUR });
        await repo().update({ id: view.id }, { status: ExportStatus.Processing, heartbeatAt: clock.now(), attempts: 1, activeSlot: TEAM_A, storageKey: null });
        clock.advance(9 * 60_000);
        expect((await sweeper.sweep()).stale).toBe(0);
        clock.advance(2 * 60_000);
        expect((await sweeper.sweep()).stale).toBe(1);
        expect(await repo().findOneByOrFail({ id: view.id })).toMatchObject({ status: ExportStatus.Failed, activeSlot: null, error: 'The worker stopped responding.' });
        expect(notifier.calls.filter((c) => c.kind === 'failed').map((c) => c.view.id)).toEqual([view.id]);
        await (await queue.getJob(view.id))?.remove();
      });

      it('queues a confirmed export again for real when its job failed or was lost, once, after a short grace', async () => {
        await t.close();
        await boot({ attempts: 3 });
        const sweeper = t.app.get(ExportSweeper);
        const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
        const view = await t.service.request(OWNER);
        const first = await waitForExport(t.dataSource, view.id);
        // The job finished (Bull ignores a new job with its id), the row went back to confirmed.
        await repo().update({ id: view.id }, { status: ExportStatus.Confirmed, heartbeatAt: clock.now(), attempts: 1, storageKey: null });
        expect((await sweeper.sweep()).requeued).toBe(0);
        clock.advance(60_000);
        const [a, b] = await Promise.all([sweeper.sweep(), sweeper.sweep()]);
        expect(a.requeued + b.requeued).toBe(1);
        const again = await waitForExport(t.dataSource, view.id);
        expect(again).toMatchObject({ status: ExportStatus.Completed, attempts: 2 });
        expect(again.storageKey).not.toBe(first.storageKey);
        // Lost with Redis: no job at all.
        await removeJob(queue, view.id);
        await repo().update({ id: view.id }, { status: ExportStatus.Confirmed, heartbeatAt: clock.now() });
        clock.advance(60_000);
        expect((await sweeper.sweep()).requeued).toBe(1);
        expect(await waitForExport(t.dataSource, view.id)).toMatchObject({ status: ExportStatus.Completed, attempts: 3 });
      });

      it('is scheduled as one repeatable job on worker processes', async () => {
        const queue = t.app.get<Queue>(getQueueToken(EXPORT_QUEUE));
        const repeatable = await queue.getRepeatableJobs();
        expect(repeatable.map((j) => [j.name, Number(j.every)])).toEqual([['sweep', 60_000]]);
      });
    });
  });
});

