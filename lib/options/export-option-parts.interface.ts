import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { Duration } from '../common/duration.util';
import type { ExportNotifier } from '../notifier/export.notifier';

/*
 * The parts of `ExportModuleOptions` that are objects of their own: confirmation, notifier,
 * Redis, CSV, audit, instant downloads, signing and coverage.
 */

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

/** The `coverage` option: what the export covers, and what it says it leaves out. @publicApi */
export interface ExportCoverageOptions {
  /** A not-covered entity stops the boot. */
  required?: boolean;
  /** Entities left out on purpose, by class name, with the reason shown to the person. */
  excluded?: Record<string, string>;
  /** What the export leaves out beyond the database ("Billing data: held by Stripe, …"). */
  notes?: string[];
}
