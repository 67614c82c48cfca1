/** Payload of an export job: serialisable and versioned. @internal */
export interface ExportJobData {
  v: 1;
  exportId: string;
}
