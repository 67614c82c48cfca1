import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EXPORT_ROUTE_PATH } from '../common/export.internal-constants';

interface BodyParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: unknown;
  errno?: unknown;
}

/**
 * Whether an error comes from reading the request before routing: body-parser's own (`type`),
 * a decompression error it passes on (a zlib error: `code` and `errno`), or the router's
 * `Failed to decode param` (a URIError) for bad percent-encoding in the path.
 */
function isRequestReadError(err: BodyParserError): boolean {
  return typeof err.type === 'string' || err instanceof URIError || (typeof err.code === 'string' && typeof err.errno === 'number');
}

/** Our answer to a request that could not be read. */
function answerOf(err: BodyParserError, status: number): { statusCode: number; code: string; message: string } {
  if (status === 413) return { statusCode: 413, code: 'EXPORT_INVALID_REQUEST', message: 'The request body is too large.' };
  if (status === 415) {
    return { statusCode: 415, code: 'EXPORT_UNSUPPORTED_MEDIA_TYPE', message: 'The request body has a charset or Content-Encoding that is not read here. Send UTF-8 JSON.' };
  }
  if (err instanceof URIError) return { statusCode: 400, code: 'EXPORT_INVALID_REQUEST', message: 'The URL is not validly percent-encoded.' };
  if (err.type === 'entity.parse.failed') return { statusCode: 400, code: 'EXPORT_INVALID_REQUEST', message: 'The request body is not valid JSON.' };
  return { statusCode: 400, code: 'EXPORT_INVALID_REQUEST', message: 'The request body could not be read (bad encoding or compression).' };
}

/**
 * Answers failures to read a request on the export routes (malformed JSON, a body too large, a
 * bad charset or compression, bad percent-encoding in the path) with the library's error
 * shape. They happen before routing, so the controller's exception filter never sees them. Installed as an Express error handler after the routes and
 * before Nest's own; other routes and other errors pass through untouched.
 * @internal
 */
@Injectable()
export class ExportBodyErrorHandler implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(EXPORT_ROUTE_PATH) private readonly path: string,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter || adapter.getType() !== 'express') return;
    const route = new RegExp(`(^|/)${this.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`);
    adapter.use((err: BodyParserError, req: { path?: string }, res: any, next: (err?: unknown) => void) => {
      const status = err?.status ?? err?.statusCode;
      if (!err || !isRequestReadError(err) || typeof status !== 'number' || status < 400 || status >= 500 || !route.test(req.path ?? '')) {
        return next(err);
      }
      const answer = answerOf(err, status);
      res.status(answer.statusCode).json(answer);
    });
  }
}
