import type { ExportModuleOptions } from 'nestjs-data-export';

/**
 * DEMO ONLY. The secret that signs the sample's confirmation and download links when
 * EXPORT_SECRET is not set. It is public (it is in this file), so links signed with it can be
 * forged by anyone: a real deployment sets EXPORT_SECRET to 32+ random characters
 * (`openssl rand -base64 36`).
 */
export const DEMO_ONLY_EXPORT_SECRET = 'demo-only-export-secret-never-use-in-production!';

export const SAMPLE_SETTINGS = Symbol('SAMPLE_SETTINGS');

/** Everything that differs between `npm run sample`, `npm run sample:worker` and the tests. */
export interface SampleSettings {
  /** SQLite database file, or ':memory:'. */
  database: string;
  /** Redis of the Bull queue. */
  redisUrl: string;
  /** Bull key prefix: processes of one sample share it; tests use a unique one. */
  bullPrefix: string;
  /** Public URL of the app: the links in emails start with it. */
  baseUrl: string;
  /** Where archives are stored. */
  exportsDir: string;
  /** Where the demo outbox keeps emails. */
  outboxDir: string;
  /** Run export jobs in this process. */
  worker: boolean;
  /** Serve HTTP (pages and the library's endpoints). */
  http: boolean;
  /** Require email confirmation before an export starts. */
  confirm: boolean;
  /** Roles that may export (the library's default). */
  allowedRoles: string[];
  /** Extra library options (tests use short intervals). */
  exportOptions?: Partial<ExportModuleOptions>;
}

export function exportSecret(): string {
  return process.env.EXPORT_SECRET ?? DEMO_ONLY_EXPORT_SECRET;
}
