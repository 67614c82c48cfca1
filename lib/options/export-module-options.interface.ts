import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import type { ExportNotifier } from '../notifier/export.notifier';

/** The `confirmation` option. @publicApi */
export interface ExportConfirmationOptions {
  /** Ask for email confirmation before processing starts. */
  required?: boolean;
  /** How long the confirmation link is valid. */
  ttl?: Duration;
  /**
   * Replaces the pages a confirmation link opens: a function returning the HTML for a state,
   * or the URL of the host's own page, which is then redirected to (303) with `exportId` and
   * `state` in the query (and `confirmUrl`, the URL to POST, while the export awaits it).
   */
  page?: ExportConfirmationPage;
  /** Where the pages' "Back" link leads (an absolute http(s) URL or a path); else `baseUrl`'s origin. */
  returnUrl?: string;
}

/**
 * What a confirmation page shows: `confirm` (the export awaits confirmation: a button that
 * POSTs `action`), `confirmed` (it is being prepared), `completed` (it is ready; the download
 * link went out by email), `unavailable` (expired, cancelled, failed, or a link that is not
 * valid).
 * @publicApi
 */
export interface ExportConfirmationPageState {
  state: 'confirm' | 'confirmed' | 'completed' | 'unavailable';
  exportId: string;
  /** The URL the confirm button POSTs (with its token), for `confirm`. */
  action?: string;
  /** Where "Back" leads. */
  returnUrl: string;
}

/** The `confirmation.page` option: HTML per state, or the host's page to redirect to. @publicApi */
export type ExportConfirmationPage = string | ((page: ExportConfirmationPageState) => string);

/**
 * The `notifier` option: a class, an instance, or a factory with injected dependencies.
 * @publicApi
 */
export type ExportNotifierChoice =
  | Type<ExportNotifier>
  | ExportNotifier
  | {
      /** Modules whose exported providers the factory injects (the host's mail module). */
      imports?: ModuleMetadata['imports'];
      useFactory: (...deps: any[]) => ExportNotifier | Promise<ExportNotifier>;
      inject?: (InjectionToken | OptionalFactoryDependency)[];
    };
import type { ExportPolicy } from '../policy/export.policy';
import type { ExportStorage } from '../storage/export.storage';
import type { Duration } from '../common/duration.util';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportAbout } from '../interfaces/export-about.interface';
import type { KeyObject } from 'node:crypto';

/**
 * Redis connection options, passed to ioredis as they are (`host`, `port`, `password`, `db`,
 * `tls`, …).
 * @publicApi
 */
export interface ExportRedisOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  [option: string]: unknown;
}

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

/** The `csv` option: how CSV archives write their cells. @publicApi */
export interface ExportCsvOptions {
  /**
   * Prefix with `'` every text cell that starts with `=`, `+`, `-`, `@`, tab or carriage return,
   * so that a spreadsheet shows it as text instead of running it. Numbers are never changed.
   * @default true
   */
  neutralizeFormulas?: boolean;
  /**
   * Start each CSV file with a UTF-8 byte order mark (EF BB BF), for Excel.
   * @default false
   */
  bom?: boolean;
}

/** The `audit` option: how long the audit trail keeps its records. @publicApi */
export interface ExportAuditOptions {
  /**
   * Age past which the sweeper deletes an audit record. Keep it longer than your obligation to
   * prove a request was answered (GDPR: a month to answer, plus the time a complaint may take).
   * @default '400d'
   */
  retention?: Duration;
}

/** The `instant` option: instant downloads of small accounts. @publicApi */
export interface ExportInstantOptions {
  /** The largest estimated export (rows of every category) that is streamed at once; 1 to 1,000,000. */
  maxRows: number;
  /**
   * Time after an instant download of an account starts before it may start another (429
   * `EXPORT_INSTANT_RATE_LIMITED` with `Retry-After` until then).
   * @default '1m'
   */
  cooldown?: Duration;
}

/**
 * The `signing` option: the Ed25519 key that signs archive manifests.
 * @publicApi
 */
export interface ExportSigningOptions {
  /** The Ed25519 private key: PEM text (PKCS#8, as `openssl genpkey -algorithm ed25519` writes it) or a `KeyObject`. */
  privateKey: string | KeyObject;
  /**
   * Names the key in the manifest (`signature.keyId`), so that recipients know which public key
   * to check it with, e.g. after a key rotation. Letters, digits, `.`, `_`, `:` and `-`, at most 100.
   */
  keyId?: string;
}

/**
 * Switches that change the module graph. They sit next to the options in `forRoot()` and at the
 * top level of `forRootAsync()`.
 * @publicApi
 */
export interface ExportModuleExtras {
  /**
   * Register the module globally.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Run export jobs in this process. `false` makes an API-only process that only enqueues.
   * @default true
   */
  worker?: boolean;
  /**
   * Serve the built-in HTTP endpoints. `false` leaves the controller out; the service still works.
   * @default true
   */
  http?: boolean;
  /**
   * Route prefix of the built-in endpoints.
   * @default 'exports'
   */
  path?: string;
  /**
   * The policy class (see `ExportPolicy`); usually a subclass of `DefaultExportPolicy`.
   * @default DefaultExportPolicy
   */
  policy?: Type<ExportPolicy>;
  /**
   * What sends confirmation and ready messages: a class (built by Nest, its dependencies from
   * the module's scope), an instance, or `{ imports, useFactory, inject }` (a factory with
   * injected dependencies from the modules in `imports`, such as the host's mailer:
   * `{ imports: [MailModule], useFactory: (mailer) => new MailNotifier(mailer), inject: [Mailer] }`).
   * @default LoggingExportNotifier
   */
  notifier?: ExportNotifierChoice;
  /**
   * Name of the host's TypeORM DataSource that holds the exportable entities and `data_exports`.
   * @default 'default'
   */
  dataSource?: string;
  /**
   * Providers added beside the options, for `forRootAsync()`'s factory to inject (a secret
   * reader, say) without a module of their own.
   * @example
   * ExportModule.forRootAsync({
   *   extraProviders: [SecretsReader],
   *   inject: [SecretsReader],
   *   useFactory: async (secrets: SecretsReader) => ({ secret: await secrets.read('export') }),
   * })
   */
  extraProviders?: Provider[];
}

/** The `coverage` option: what the export covers, and what it says it leaves out. @publicApi */
export interface ExportCoverageOptions {
  /** A not-covered entity stops the boot. */
  required?: boolean;
  /** Entities left out on purpose, by class name, with the reason shown to the person. */
  excluded?: Record<string, string>;
  /** What the export leaves out beyond the database ("Billing data: held by Stripe, …"). */
  notes?: string[];
}

/**
 * A class that `forRootAsync({ useClass })` or `forRootAsync({ useExisting })` takes: it creates
 * the module options, with its own dependencies injected.
 * @publicApi
 */
export interface ExportOptionsFactory {
  createExportOptions(): ExportModuleOptions | Promise<ExportModuleOptions>;
}

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
