import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EXPORT_ROUTE_PATH } from '../export.internal-constants';

interface BodyParserError {
  status?: number;
  statusCode?: number;
  type?: string;
}

/**
 * Answers body-parser failures on the export routes (malformed JSON, a body too large, a bad
 * charset) with the library's error shape. They happen before routing, so the controller's
 * exception filter never sees them. Installed as an Express error handler after the routes and
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
      if (!err?.type || typeof status !== 'number' || status < 400 || status >= 500 || !route.test(req.path ?? '')) {
        return next(err);
      }
      const tooLarge = status === 413;
      res.status(tooLarge ? 413 : 400).json({
        statusCode: tooLarge ? 413 : 400,
        code: 'EXPORT_INVALID_REQUEST',
        message: tooLarge ? 'The request body is too large.' : 'The request body is not valid JSON.',
      });
    });
  }
}
