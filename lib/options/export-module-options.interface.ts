import type {
  ExportConfirmationOptions,
  ExportConfirmationPageState,
  ExportConfirmationPage,
  ExportNotifierChoice,
  ExportRedisOptions,
  ExportCsvOptions,
  ExportAuditOptions,
  ExportInstantOptions,
  ExportSigningOptions,
  ExportCoverageOptions,
} from './export-option-parts.interface';

export type * from './export-option-parts.interface';

export type { ExportModuleExtras } from './export-module-extras.interface';
export type { ResolvedExportOptions, ResolvedExportSigning } from './resolved-export-options.interface';

import type { ExportStorage } from '../storage/export.storage';
import type { Duration } from '../common/duration.util';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportAbout } from '../interfaces/export-about.interface';


/**
 * Options of `ExportModule.forRoot()` / the object returned by `forRootAsync()`'s factory.
 * @publicApi
 */
export interface ExportModuleOptions {
  /**
   * Secret that signs confirmation and download links and derives at-rest keys.
   * At least 32 characters. Never logged, never written to an archive or an event.
   */
  secret: string;
  /**
   * Redis connection of the `data-export` queue: a URL (`redis://host:6379/0`) or ioredis
   * options. When omitted, the queue uses the host's `BullModule.forRoot()` configuration.
   */
  redis?: string | ExportRedisOptions;
  /**
   * Bull's key prefix for the export queue in Redis (`<prefix>:data-export:…`), to keep several
   * apps or environments apart on one Redis. When omitted: the host's `BullModule.forRoot()`
   * prefix, else Bull's own (`bull`). Every process of the app (web and workers) sets the same.
   */
  prefix?: string;
  /**
   * Where archives are stored.
   * @default new LocalDiskStorage('./var/exports')
   */
  storage?: ExportStorage;
  /**
   * Encrypt archives at rest (AES-256-GCM in authenticated segments, a key per export derived
   * from `secret`). Downloads decrypt on the fly. Turn it off only when the storage encrypts.
   * @default true
   */
  encryption?: boolean;
  /**
   * Rows fetched per batch from the database (cursor fetch size, or keyset page size).
   * @default 5000
   */
  batchSize?: number;
  /**
   * Deflate level of the ZIP entries, 0 (store) to 9.
   * @default 6
   */
  compressionLevel?: number;
  /**
   * Jobs one worker process runs at the same time.
   * @default 1
   */
  concurrency?: number;
  /**
   * Attempts Bull makes for one export before it is marked `failed`.
   * @default 3
   */
  attempts?: number;
  /**
   * Delay before a retry (exponential backoff base).
   * @default '5s'
   */
  retryDelay?: Duration;
  /**
   * How long a completed export can be downloaded; the file is deleted afterwards.
   * @default '24h'
   */
  downloadTtl?: Duration;
  /**
   * Wait after a completed export before another may be requested.
   * @default '24h'
   */
  cooldown?: Duration;
  /**
   * Roles allowed to request, list and read exports.
   * @default ['owner', 'admin']
   */
  allowedRoles?: string[];
  /**
   * Email confirmation before processing starts.
   * @default { required: false, ttl: '24h' }
   */
  confirmation?: ExportConfirmationOptions;
  /**
   * Public origin (and path prefix) of the API, used to build the links sent to users:
   * `<baseUrl>/<path>/<id>/download?token=…`.
   * @default 'http://localhost:3000'
   */
  baseUrl?: string;
  /**
   * Lifetime of a download link; never later than the export's own expiry.
   * @default '24h'
   */
  linkTtl?: Duration;
  /**
   * A processing export whose worker has not reported for this long is failed (or re-queued by
   * Bull when its job is still alive), so it never holds the account's slot forever.
   * @default '10m'
   */
  staleAfter?: Duration;
  /**
   * A run that makes no progress for this long (no row read from the database, no byte taken by
   * the storage) is stopped and counts as a failed attempt: a frozen database, a killed
   * connection or a storage that stopped reading never hold a worker. Keep it above the time
   * your database takes to start returning an account's largest category.
   * @default '1m'
   */
  stallTimeout?: Duration;
  /**
   * On shutdown (SIGTERM with `enableShutdownHooks()`), how long running exports may go on
   * before they are stopped; a stopped export is retried per `attempts`, by this or another
   * worker. The process then ends within a few seconds more.
   * @default '10s'
   */
  shutdownTimeout?: Duration;
  /**
   * Minimum time between two progress events (`events$`, SSE, Bull job progress).
   * @default '1s'
   */
  progressInterval?: Duration;
  /**
   * How long a request waits for Redis to accept the job before it is refused with 503
   * `EXPORT_QUEUE_UNAVAILABLE` (and nothing is kept).
   * @default '5s'
   */
  enqueueTimeout?: Duration;
  /**
   * How often the sweeper runs (a Bull repeatable job, on worker processes).
   * @default '1m'
   */
  sweepInterval?: Duration;
  /**
   * How long a worker's lock on a running export lasts without being renewed (Bull's
   * `lockDuration`; renewed every half of it). A killed worker's export is taken up by another
   * worker at most `lockDuration + stalledInterval` after the kill. Given here, it applies to
   * the export queue only and wins over the host's `BullModule.forRoot({ settings })`; when
   * omitted, the host's `settings.lockDuration` wins over this default.
   * @default '8s'
   */
  lockDuration?: Duration;
  /**
   * How often workers check for running exports whose lock lapsed (Bull's `stalledInterval`),
   * and put them back on the queue. Same precedence as `lockDuration`.
   * @default '4s'
   */
  stalledInterval?: Duration;
  /**
   * Also require the signed-in principal (of the export's account) to download; by default a
   * valid download link is enough, since links arrive by email and open in a browser. Either
   * way, a request that carries a principal of another account, or of a role that may not
   * manage exports, is refused (403 `EXPORT_FORBIDDEN`).
   * @default false
   */
  downloadRequiresPrincipal?: boolean;
  /**
   * How many times one export may be downloaded (every GET of its link that starts sending
   * bytes counts, a ranged one included; HEAD does not). Past it, its links answer 410
   * `EXPORT_DOWNLOAD_LIMIT`. Unlimited when omitted.
   * @default undefined (unlimited)
   */
  maxDownloads?: number;
  /**
   * Resolves the principal of an HTTP request.
   * @default (req) => req.user
   */
  principal?: (req: any) => ExportPrincipal | undefined | null;
  /**
   * What the export covers. Every entity of the DataSource is `@Exportable`, excluded on purpose
   * (`@ExportExcluded({ reason })` or `excluded` here), or "not covered": reported at boot and
   * listed in the archive's "What is not included", or, with `required`, a boot error.
   * @default { required: false, excluded: {}, notes: [] }
   */
  coverage?: ExportCoverageOptions;
  /**
   * Purpose, recipients, retention and source of every category that does not say its own
   * (README.txt's "About this data" and the manifest).
   * @default {}
   */
  about?: ExportAbout;
  /**
   * How `format: 'csv'` archives write their cells. `neutralizeFormulas`: a text cell that a
   * spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab or carriage
   * return) gets a leading `'` (OWASP CSV injection); `bom`: each CSV starts with a UTF-8 byte
   * order mark, which Excel needs to read UTF-8.
   * @default { neutralizeFormulas: true, bom: false }
   */
  csv?: ExportCsvOptions;
  /**
   * Instant downloads (`GET /exports/instant`, `ExportService.instant()`): an account whose
   * export is estimated at most `maxRows` rows gets its archive streamed straight into the
   * response, with no job, no file at rest and no link. Larger ones are refused with 409
   * `EXPORT_TOO_LARGE_FOR_INSTANT` (request them with `POST /exports`). Each account may start
   * one instant download per `cooldown`. It skips email confirmation, so it cannot be combined
   * with `confirmation.required`. Off when omitted.
   * @default undefined (off)
   */
  instant?: ExportInstantOptions;
  /**
   * The audit trail (`data_export_events`, listed by `ExportAdminService.history`): every
   * request, confirmation, run, download (with its address, user agent and range), deletion,
   * expiry and operator action. On by default; `false` turns it off. The sweeper deletes records
   * older than `retention`.
   * @default { retention: '400d' }
   */
  audit?: ExportAuditOptions | false;
  /**
   * Sign each ZIP archive's manifest with an Ed25519 key: the archive then holds
   * `manifest.sig`, a detached signature of the exact bytes of `manifest.json`, which
   * `npx nestjs-data-export verify <archive> --key <public-key.pem>` checks offline. Off by
   * default: a signed archive is a document the service vouches for, which the host should
   * choose knowingly. The private key is never logged, written to an archive or an event.
   * @default undefined (archives are not signed)
   * @example
   * // openssl genpkey -algorithm ed25519 -out export-signing.pem
   * // openssl pkey -in export-signing.pem -pubout -out export-signing.pub.pem
   * signing: { privateKey: process.env.EXPORT_SIGNING_KEY!, keyId: 'exports-2026' }
   */
  signing?: ExportSigningOptions;
}




/**
 * A class that `forRootAsync({ useClass })` or `forRootAsync({ useExisting })` takes: it creates
 * the module options, with its own dependencies injected.
 * @publicApi
 */
export interface ExportOptionsFactory {
  createExportOptions(): ExportModuleOptions | Promise<ExportModuleOptions>;
}

