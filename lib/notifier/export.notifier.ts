import { Injectable, Logger } from '@nestjs/common';
import type { ExportView } from '../interfaces/export-view.interface';

/**
 * Tells people about their export: send the emails here. Replace it through
 * `ExportModule.forRoot({ notifier: MyNotifier })`. The URLs carry signed tokens: send them to
 * the requester only, and never log them.
 * @publicApi
 */
export abstract class ExportNotifier {
  /** The export waits for the requester to open `url` (confirmation required). */
  abstract confirmationRequested(exportView: ExportView, url: string, requester: ExportRequester): Promise<void> | void;
  /**
   * The archive is ready; `url` downloads it until the link expires. For a personal export the
   * recipient is the member it is about, also when an owner or admin asked on their behalf.
   */
  abstract ready(exportView: ExportView, url: string, requester: ExportRequester): Promise<void> | void;
  /** The export failed for good. */
  abstract failed(exportView: ExportView, requester: ExportRequester): Promise<void> | void;
}

/**
 * Where a notification goes: who asked for the export, or, for the ready message of a personal
 * export asked for on a member's behalf, that member (`requestedBy` then names who asked).
 * @publicApi
 */
export interface ExportRequester {
  userId: string;
  accountId: string;
  email: string | null;
  /** Set when the recipient is not the requester: the owner's or admin's user id who asked on the recipient's behalf. */
  requestedBy?: string;
}

/**
 * The default notifier: logs through Nest's Logger, without links or tokens.
 * @publicApi
 */
@Injectable()
export class LoggingExportNotifier extends ExportNotifier {
  private readonly logger = new Logger('ExportNotifier');

  confirmationRequested(view: ExportView, _url: string, requester: ExportRequester): void {
    this.logger.log(`Export ${view.id} awaits confirmation by user ${requester.userId}; a confirmation link was issued`);
  }

  ready(view: ExportView, _url: string, requester: ExportRequester): void {
    this.logger.log(`Export ${view.id} is ready for user ${requester.userId}; a download link was issued`);
  }

  failed(view: ExportView, requester: ExportRequester): void {
    this.logger.warn(`Export ${view.id} of user ${requester.userId} failed`);
  }
}
