import { Injectable, Module } from '@nestjs/common';
import { ExportNotifier, ExportStatus, ExportView } from 'nestjs-data-export';
import { createTestApp, RecordingNotifier, TestApp, waitForExport } from '../utils/test-app';
import { HELP_DESK_ENTITIES } from '../fixtures/help-desk.entities';
import { seedHelpDesk, TEAM_A } from '../fixtures/help-desk.seed';

const OWNER = { userId: 'owner-a', accountId: TEAM_A, role: 'owner', email: 'owner-a@team-a.example' };

/** A host's mail service, in a module of its own (not global). */
@Injectable()
class Outbox {
  readonly sent: string[] = [];
  send(to: string, subject: string): void {
    this.sent.push(`${to}: ${subject}`);
  }
}

@Module({ providers: [Outbox], exports: [Outbox] })
class MailModule {}

/** A notifier built by the host's factory around its mail service. */
class OutboxNotifier extends ExportNotifier {
  constructor(private readonly outbox: Outbox) {
    super();
  }
  confirmationRequested(view: ExportView): void {
    this.outbox.send(view.requestedBy ?? '?', 'Confirm your export');
  }
  ready(view: ExportView): void {
    this.outbox.send(view.requestedBy ?? '?', 'Your export is ready');
  }
  failed(view: ExportView): void {
    this.outbox.send(view.requestedBy ?? '?', 'Your export failed');
  }
}

describe('the notifier option: a class, an instance, or a factory with injected dependencies', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  async function exportOnce(app: TestApp): Promise<void> {
    await seedHelpDesk(app.dataSource, 1);
    const view = await app.service.request(OWNER, {});
    expect((await waitForExport(app.dataSource, view.id)).status).toBe(ExportStatus.Completed);
  }

  it('an instance is used as it is', async () => {
    const notifier = new RecordingNotifier();
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, exportOptions: { notifier } });
    expect(t.app.get(ExportNotifier)).toBe(notifier);
    await exportOnce(t);
    expect(notifier.calls.map((c) => c.kind)).toEqual(['ready']);
  });

  it('{ imports, useFactory, inject } builds it from a provider of a module that is not global', async () => {
    t = await createTestApp('sqlite', {
      entities: HELP_DESK_ENTITIES,
      exportOptions: { notifier: { imports: [MailModule], useFactory: (outbox: Outbox) => new OutboxNotifier(outbox), inject: [Outbox] } },
    });
    const notifier = t.app.get(ExportNotifier);
    expect(notifier).toBeInstanceOf(OutboxNotifier);
    await exportOnce(t);
    expect(t.app.get(Outbox).sent).toEqual(['owner-a: Your export is ready']);
  });

  it('a class is built by Nest, as before', async () => {
    t = await createTestApp('sqlite', { entities: HELP_DESK_ENTITIES, exportOptions: { notifier: RecordingNotifier } });
    await exportOnce(t);
    expect((t.app.get(ExportNotifier) as RecordingNotifier).calls.map((c) => c.kind)).toEqual(['ready']);
  });
});
