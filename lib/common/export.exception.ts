import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Stable error codes of the export API. @publicApi
 */
export type ExportErrorCode =
  | 'EXPORT_INVALID_REQUEST'
  | 'EXPORT_UNAUTHENTICATED'
  | 'EXPORT_LINK_INVALID'
  | 'EXPORT_FORBIDDEN'
  | 'EXPORT_NOT_FOUND'
  | 'EXPORT_ALREADY_ACTIVE'
  | 'EXPORT_NOT_READY'
  | 'EXPORT_LINK_EXPIRED'
  | 'EXPORT_ARCHIVE_MISSING'
  | 'EXPORT_UNSUPPORTED_MEDIA_TYPE'
  | 'EXPORT_COOLDOWN'
  | 'EXPORT_EMAIL_REQUIRED'
  | 'EXPORT_DOWNLOAD_LIMIT'
  | 'EXPORT_QUEUE_UNAVAILABLE'
  | 'EXPORT_INSTANT_DISABLED'
  | 'EXPORT_TOO_LARGE_FOR_INSTANT'
  | 'EXPORT_INSTANT_RATE_LIMITED'
  /** A server-side failure (HTTP 5xx); the body says nothing more. */
  | 'EXPORT_INTERNAL_ERROR';

/**
 * Base of every refusal the export service and endpoints give. The body is
 * `{ statusCode, code, message, ...details }`; `code` is stable, `message` is for people.
 * @publicApi
 */
export class ExportException extends HttpException {
  constructor(
    readonly code: ExportErrorCode,
    status: HttpStatus,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super({ statusCode: status, code, message, ...details }, status);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed (unknown category, bad dates, …). @publicApi */
export class ExportInvalidRequestException extends ExportException {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('EXPORT_INVALID_REQUEST', HttpStatus.BAD_REQUEST, message, details);
  }
}

/**
 * 416: the `Range` asked for lies outside the archive. The body has the archive's `size`; the
 * built-in endpoint also sends the size in a `Content-Range` header.
 * @publicApi
 */
export class ExportRangeNotSatisfiableException extends ExportException {
  constructor(readonly size: number) {
    super('EXPORT_INVALID_REQUEST', HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 'The requested range is outside the file.', { size });
  }
}

/** 401: no principal. @publicApi */
export class ExportUnauthenticatedException extends ExportException {
  constructor() {
    super('EXPORT_UNAUTHENTICATED', HttpStatus.UNAUTHORIZED, 'Sign in to manage data exports.');
  }
}

/** 403: the principal's role may not manage exports. @publicApi */
export class ExportForbiddenException extends ExportException {
  constructor(message = 'Only account owners and admins can export account data.') {
    super('EXPORT_FORBIDDEN', HttpStatus.FORBIDDEN, message);
  }
}

/** 403: the link's token is missing, malformed, tampered or meant for something else. @publicApi */
export class ExportLinkInvalidException extends ExportException {
  constructor() {
    super('EXPORT_LINK_INVALID', HttpStatus.FORBIDDEN, 'This link is not valid.');
  }
}

/** 404: no such export in the principal's account. @publicApi */
export class ExportNotFoundException extends ExportException {
  constructor() {
    super('EXPORT_NOT_FOUND', HttpStatus.NOT_FOUND, 'Export not found.');
  }
}

/** 409: the account already has an active export. @publicApi */
export class ExportAlreadyActiveException extends ExportException {
  constructor(activeExportId: string | null) {
    super(
      'EXPORT_ALREADY_ACTIVE',
      HttpStatus.CONFLICT,
      'An export is already in progress or ready to download for this account.',
      { activeExportId },
    );
  }
}

/** 409: the export is not completed yet. @publicApi */
export class ExportNotReadyException extends ExportException {
  constructor(status: string) {
    super('EXPORT_NOT_READY', HttpStatus.CONFLICT, 'The export is not ready to download.', { status });
  }
}

/** 410: the link or the download window has ended. @publicApi */
export class ExportLinkExpiredException extends ExportException {
  constructor(message = 'This link has expired. Request a new export.') {
    super('EXPORT_LINK_EXPIRED', HttpStatus.GONE, message);
  }
}

/** What an export whose stored archive is missing or cut records as its `error`. @internal */
export const ARCHIVE_MISSING_MESSAGE = 'The archive of this export is missing or incomplete. Request a new export.';

/**
 * 410: the stored archive was deleted or cut behind the library's back; the export has expired
 * and its slot is free. @publicApi
 */
export class ExportArchiveMissingException extends ExportException {
  constructor() {
    super('EXPORT_ARCHIVE_MISSING', HttpStatus.GONE, ARCHIVE_MISSING_MESSAGE);
  }
}

/**
 * 410: the export was downloaded `maxDownloads` times; its links open nothing more.
 * @publicApi
 */
export class ExportDownloadLimitException extends ExportException {
  constructor() {
    super('EXPORT_DOWNLOAD_LIMIT', HttpStatus.GONE, 'This export has been downloaded as many times as allowed. Request a new export.');
  }
}

/**
 * 422: email confirmation is on (`confirmation.required`) and the principal has no email
 * address to send it to; nothing was created.
 * @publicApi
 */
export class ExportEmailRequiredException extends ExportException {
  constructor() {
    super(
      'EXPORT_EMAIL_REQUIRED',
      HttpStatus.UNPROCESSABLE_ENTITY,
      'Exports are confirmed by email, and your account has no email address. Add one to your profile, then request the export again.',
    );
  }
}

/**
 * 415: a state-changing request whose body is not JSON (a form, text, XML, multipart): what a
 * cross-site form sends. @publicApi
 */
export class ExportUnsupportedMediaTypeException extends ExportException {
  constructor(message = 'Send the request body as JSON (Content-Type: application/json), or send no body.') {
    super('EXPORT_UNSUPPORTED_MEDIA_TYPE', HttpStatus.UNSUPPORTED_MEDIA_TYPE, message);
  }
}

/** 429: a recent export started the cooldown. @publicApi */
export class ExportCooldownException extends ExportException {
  constructor(availableAt: Date, now: Date) {
    const retryAfterSeconds = Math.max(1, Math.ceil((availableAt.getTime() - now.getTime()) / 1000));
    super('EXPORT_COOLDOWN', HttpStatus.TOO_MANY_REQUESTS, 'A new export can be requested after the cooldown.', {
      retryAfterSeconds,
      availableAt: availableAt.toISOString(),
    });
  }
}

/** 503: the job queue (Redis) cannot be reached; nothing was kept. @publicApi */
export class ExportQueueUnavailableException extends ExportException {
  constructor() {
    super(
      'EXPORT_QUEUE_UNAVAILABLE',
      HttpStatus.SERVICE_UNAVAILABLE,
      'Exports cannot be started right now. Please try again in a few minutes.',
    );
  }
}

/** 404: instant downloads are off (no `instant` option). @publicApi */
export class ExportInstantDisabledException extends ExportException {
  constructor() {
    super('EXPORT_INSTANT_DISABLED', HttpStatus.NOT_FOUND, 'Instant downloads are not available. Request an export instead (POST /exports).');
  }
}

/**
 * 409: the export is larger than `instant.maxRows` (or its size cannot be known beforehand):
 * request it instead. The body carries the `estimate` and `use: 'POST /exports'`.
 * @publicApi
 */
export class ExportTooLargeForInstantException extends ExportException {
  constructor(maxRows: number, estimate: object) {
    super(
      'EXPORT_TOO_LARGE_FOR_INSTANT',
      HttpStatus.CONFLICT,
      `This export is too large to download at once (more than ${maxRows} rows, or a size that cannot be known beforehand). Request it with POST /exports; you will get a link when it is ready.`,
      { maxRows, estimate, use: 'POST /exports' },
    );
  }
}

/** 429: an instant download of this account started less than `instant.cooldown` ago. @publicApi */
export class ExportInstantRateLimitedException extends ExportException {
  constructor(retryAfterMs: number) {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super('EXPORT_INSTANT_RATE_LIMITED', HttpStatus.TOO_MANY_REQUESTS, 'An instant download of this account started moments ago. Try again later.', {
      retryAfterSeconds,
    });
  }
}
