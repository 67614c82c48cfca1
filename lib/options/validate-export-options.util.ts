import { ExportStorage } from '../storage/export.storage';
import { LocalDiskStorage } from '../storage/local-disk.storage';
import { InvalidExportOptionsError } from '../common/export.error';
import { ExportMessages } from '../common/export.messages';
import { parseDuration } from '../common/duration.util';
import { DEFAULT_EXPORT_OPTIONS as D } from './export-options.defaults';
import type { ExportConfirmationPage, ExportModuleOptions, ResolvedExportOptions } from './export-module-options.interface';
import { validateAbout } from '../options/export-about.util';
import { resolveSigning } from './export-signing.util';

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidExportOptionsError(ExportMessages.optionOutOfRange(name, min, max, value));
  }
  return value;
}

/**
 * A switch: `true`, `false` or absent. Anything else (`'true'` from an environment variable) is
 * refused, so that a safeguard is never silently off.
 */
function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidExportOptionsError(ExportMessages.badFlag(name, value));
  return value;
}

function duration(name: string, value: unknown, fallback: string): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === undefined) {
    throw new InvalidExportOptionsError(ExportMessages.badDuration(name, value));
  }
  return ms;
}

/**
 * Defaults of Bull's lock settings on the export queue. They apply only where neither the
 * options nor the host's `BullModule.forRoot({ settings })` give a value, so they are merged
 * when the queue is built, not here.
 * @internal
 */
export const DEFAULT_QUEUE_LOCK = Object.freeze({ lockDuration: '8s', stalledInterval: '4s' } as const);

/** A duration given explicitly, at least `minMs`; `undefined` when omitted. */
function explicitDuration(name: string, value: unknown, minMs: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = duration(name, value, '0ms');
  if (ms < minMs) throw new InvalidExportOptionsError(ExportMessages.badDuration(name, value));
  return ms;
}

/**
 * Merges the defaults into the module options and validates every value. Throws
 * `InvalidExportOptionsError` naming the option at fault.
 * @internal
 */
export function resolveExportOptions(options: ExportModuleOptions | undefined): ResolvedExportOptions {
  if (!options || typeof options !== 'object') {
    throw new InvalidExportOptionsError(ExportMessages.missingOptions());
  }
  const { secret } = options;
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new InvalidExportOptionsError(ExportMessages.missingSecret());
  }
  if (secret.length < D.minSecretLength) {
    throw new InvalidExportOptionsError(ExportMessages.shortSecret(D.minSecretLength, secret.length));
  }
  const storage = options.storage ?? new LocalDiskStorage(D.storagePath);
  if (!(storage instanceof ExportStorage) && !isStorageLike(storage)) {
    throw new InvalidExportOptionsError(ExportMessages.unknownStorage(storage));
  }
  if (options.redis !== undefined && typeof options.redis !== 'string' && typeof options.redis !== 'object') {
    throw new InvalidExportOptionsError(ExportMessages.badRedis());
  }
  if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix.trim() === '' || options.prefix.length > 100)) {
    throw new InvalidExportOptionsError(ExportMessages.badPrefix(options.prefix));
  }
  const allowedRoles = options.allowedRoles ?? [...D.allowedRoles];
  if (!Array.isArray(allowedRoles) || allowedRoles.some((r) => typeof r !== 'string' || !r)) {
    throw new InvalidExportOptionsError(ExportMessages.badRoles());
  }
  if (options.principal !== undefined && typeof options.principal !== 'function') {
    throw new InvalidExportOptionsError(ExportMessages.badPrincipal());
  }
  return Object.freeze({
    secret,
    redis: options.redis,
    prefix: options.prefix,
    storage,
    encryption: flag('encryption', options.encryption, D.encryption),
    batchSize: integer('batchSize', options.batchSize, D.batchSize, 1, 1_000_000),
    compressionLevel: integer('compressionLevel', options.compressionLevel, D.compressionLevel, 0, 9),
    concurrency: integer('concurrency', options.concurrency, D.concurrency, 1, 64),
    attempts: integer('attempts', options.attempts, D.attempts, 1, 100),
    retryDelayMs: duration('retryDelay', options.retryDelay, D.retryDelay),
    downloadTtlMs: duration('downloadTtl', options.downloadTtl, D.downloadTtl),
    cooldownMs: duration('cooldown', options.cooldown, D.cooldown),
    allowedRoles: Object.freeze([...allowedRoles]),
    confirmation: Object.freeze({
      required: flag('confirmation.required', options.confirmation?.required, D.confirmationRequired),
      ttlMs: duration('confirmation.ttl', options.confirmation?.ttl, D.confirmationTtl),
      ...confirmationPage(options.confirmation?.page, options.confirmation?.returnUrl),
    }),
    baseUrl: baseUrl(options.baseUrl),
    downloadRequiresPrincipal: flag('downloadRequiresPrincipal', options.downloadRequiresPrincipal, false),
    maxDownloads: options.maxDownloads === undefined ? undefined : integer('maxDownloads', options.maxDownloads, 0, 1, 1_000_000),
    linkTtlMs: duration('linkTtl', options.linkTtl, D.linkTtl),
    staleAfterMs: duration('staleAfter', options.staleAfter, D.staleAfter),
    stallTimeoutMs: duration('stallTimeout', options.stallTimeout, D.stallTimeout),
    shutdownTimeoutMs: duration('shutdownTimeout', options.shutdownTimeout, D.shutdownTimeout),
    sweepIntervalMs: duration('sweepInterval', options.sweepInterval, D.sweepInterval),
    lockDurationMs: explicitDuration('lockDuration', options.lockDuration, 1000),
    stalledIntervalMs: explicitDuration('stalledInterval', options.stalledInterval, 100),
    progressIntervalMs: duration('progressInterval', options.progressInterval, D.progressInterval),
    enqueueTimeoutMs: duration('enqueueTimeout', options.enqueueTimeout, D.enqueueTimeout),
    // Fastify hands over its own request; middleware set `user` on Node's under it (`raw`).
    principal: options.principal ?? ((req: any) => req?.user ?? req?.raw?.user),
    coverage: coverage(options.coverage),
    about: validateAbout('ExportModule option "about"', options.about),
    csv: csv(options.csv),
    instant: instant(options),
    audit: audit(options.audit),
    signing: resolveSigning(options.signing),
  });
}

/** The audit trail: on by default, `false` turns it off. */
function audit(value: ExportModuleOptions['audit']): ResolvedExportOptions['audit'] {
  if (value === false) return undefined;
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new InvalidExportOptionsError(ExportMessages.badAuditOption(value));
  }
  return Object.freeze({ retentionMs: duration('audit.retention', value?.retention, D.auditRetention) });
}

function instant(options: ExportModuleOptions): ResolvedExportOptions['instant'] {
  const value = options.instant;
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidExportOptionsError(ExportMessages.badInstant(value));
  if (options.confirmation?.required === true) throw new InvalidExportOptionsError(ExportMessages.instantWithConfirmation());
  return Object.freeze({
    maxRows: integer('instant.maxRows', value.maxRows ?? null, 0, 1, 1_000_000),
    cooldownMs: duration('instant.cooldown', value.cooldown, D.instantCooldown),
  });
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

function coverage(value: ExportModuleOptions['coverage']): ResolvedExportOptions['coverage'] {
  if (value !== undefined && (value === null || typeof value !== 'object')) throw new InvalidExportOptionsError(ExportMessages.badCoverage());
  const excluded = value?.excluded ?? {};
  const notes = value?.notes ?? [];
  if (typeof excluded !== 'object' || excluded === null || Object.values(excluded).some((r) => !isText(r))) {
    throw new InvalidExportOptionsError(ExportMessages.badCoverage());
  }
  if (!Array.isArray(notes) || notes.some((n) => !isText(n))) throw new InvalidExportOptionsError(ExportMessages.badCoverage());
  return Object.freeze({
    required: flag('coverage.required', value?.required, false),
    excluded: Object.freeze({ ...excluded }),
    notes: Object.freeze([...notes]),
  });
}

function csv(value: ExportModuleOptions['csv']): ResolvedExportOptions['csv'] {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new InvalidExportOptionsError(ExportMessages.badCsv());
  }
  return Object.freeze({
    neutralizeFormulas: flag('csv.neutralizeFormulas', value?.neutralizeFormulas, true),
    bom: flag('csv.bom', value?.bom, false),
  });
}

/** The `confirmation.page` and `confirmation.returnUrl` options, checked. */
function confirmationPage(page: unknown, returnUrl: unknown): { page?: ExportConfirmationPage; returnUrl?: string } {
  const url = (v: unknown) => typeof v === 'string' && (/^\/(?!\/)/.test(v) || /^https?:\/\/[^\s]+$/i.test(v));
  if (page !== undefined && typeof page !== 'function' && !url(page)) {
    throw new InvalidExportOptionsError('ExportModule option "confirmation.page" must be a function returning HTML, or the URL (absolute http(s), or a path) of your own page.');
  }
  if (returnUrl !== undefined && !url(returnUrl)) {
    throw new InvalidExportOptionsError('ExportModule option "confirmation.returnUrl" must be an absolute http(s) URL or a path starting with "/".');
  }
  return { ...(page === undefined ? {} : { page: page as ExportConfirmationPage }), ...(returnUrl === undefined ? {} : { returnUrl: returnUrl as string }) };
}

function baseUrl(value: unknown): string {
  if (value === undefined) return D.baseUrl;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new InvalidExportOptionsError(ExportMessages.badBaseUrl(value));
  }
  return url.toString().replace(/\/+$/, '');
}

function isStorageLike(value: unknown): value is ExportStorage {
  const s = value as Record<string, unknown> | null;
  return (
    !!s &&
    typeof s === 'object' &&
    ['put', 'get', 'stat', 'delete'].every((m) => typeof s[m] === 'function')
  );
}
