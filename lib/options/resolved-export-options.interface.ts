import type { KeyObject } from 'node:crypto';
import type { ExportAbout } from '../interfaces/export-about.interface';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportStorage } from '../storage/export.storage';
import type { ExportConfirmationPage, ExportRedisOptions } from './export-option-parts.interface';

/** Options after defaults are merged and values validated. @internal */
export interface ResolvedExportOptions {
  secret: string;
  redis?: string | ExportRedisOptions;
  prefix?: string;
  storage: ExportStorage;
  encryption: boolean;
  batchSize: number;
  compressionLevel: number;
  concurrency: number;
  attempts: number;
  retryDelayMs: number;
  downloadTtlMs: number;
  cooldownMs: number;
  allowedRoles: readonly string[];
  confirmation: { required: boolean; ttlMs: number; page?: ExportConfirmationPage; returnUrl?: string };
  baseUrl: string;
  linkTtlMs: number;
  downloadRequiresPrincipal: boolean;
  /** `undefined`: unlimited. */
  maxDownloads?: number;
  staleAfterMs: number;
  stallTimeoutMs: number;
  shutdownTimeoutMs: number;
  progressIntervalMs: number;
  enqueueTimeoutMs: number;
  sweepIntervalMs: number;
  /** Only when given in the options (the host's Bull settings win over the default). */
  lockDurationMs?: number;
  /** Only when given in the options (the host's Bull settings win over the default). */
  stalledIntervalMs?: number;
  principal: (req: any) => ExportPrincipal | undefined | null;
  coverage: { required: boolean; excluded: Readonly<Record<string, string>>; notes: readonly string[] };
  about: ExportAbout;
  csv: { neutralizeFormulas: boolean; bom: boolean };
  /** `undefined`: instant downloads are off. */
  instant?: { readonly maxRows: number; readonly cooldownMs: number };
  /** `undefined`: the audit trail is off. */
  audit?: { readonly retentionMs: number };
  /** `undefined`: archives are not signed. */
  signing?: ResolvedExportSigning;
}

/** The signing key, checked to be an Ed25519 private key. @internal */
export interface ResolvedExportSigning {
  readonly privateKey: KeyObject;
  readonly keyId?: string;
}
