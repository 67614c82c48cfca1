import type { ExportView } from './export-view.interface';

/**
 * A lifecycle or progress event of one export. `progress` while it is processed; `status` on
 * every change of status. Never carries a token or a link.
 * @publicApi
 */
export interface ExportEvent {
  type: 'progress' | 'status';
  exportId: string;
  accountId: string;
  export: ExportView;
}
