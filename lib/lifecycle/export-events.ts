import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { DataExport } from '../entities/data-export.entity';
import type { ExportEvent } from '../interfaces/export-event.interface';
import { toExportView } from './export-view.util';

/**
 * The stream behind `ExportService.events$`: every change this process makes to an export
 * (request, confirm, cancel, expiry, and the progress and result of the jobs its worker runs).
 * Other processes' changes are not relayed; the SSE endpoint also re-reads the database, so it
 * follows jobs that run on other machines.
 * @internal
 */
@Injectable()
export class ExportEvents implements OnModuleDestroy {
  private readonly subject = new Subject<ExportEvent>();
  readonly events$: Observable<ExportEvent> = this.subject.asObservable();

  onModuleDestroy(): void {
    this.subject.complete();
  }

  /** Emits an event about a row this process just changed. */
  emit(type: ExportEvent['type'], row: DataExport): void {
    if (!this.subject.observed) return;
    this.subject.next({ type, exportId: row.id, accountId: row.accountId, export: toExportView(row) });
  }
}
