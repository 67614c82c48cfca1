import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { sendJson, takeResponse } from './http-adapter.util';
import { ExportCooldownException, ExportException, ExportInstantRateLimitedException } from '../common/export.exception';

/**
 * Answers every error of the built-in endpoints as `{ statusCode, code, message, ... }`:
 * the library's refusals as they are (plus `Retry-After` on a cooldown), a host's validation
 * 400 as `EXPORT_INVALID_REQUEST`, and anything unexpected as a 500 that names no internals.
 * @internal
 */
@Catch()
export class ExportExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExportController');

  catch(exception: unknown, host: ArgumentsHost): void {
    // Node's response on every adapter (Express's, or the `raw` of Fastify's reply).
    const res = takeResponse(host.switchToHttp().getResponse());
    const req = host.switchToHttp().getRequest<{ method?: string }>();
    let status: number;
    let body: Record<string, unknown>;
    if (exception instanceof ExportException) {
      status = exception.getStatus();
      body = exception.getResponse() as Record<string, unknown>;
      if (exception instanceof ExportCooldownException || exception instanceof ExportInstantRateLimitedException) {
        res.setHeader('Retry-After', String(exception.details.retryAfterSeconds));
      }
    } else if (exception instanceof BadRequestException) {
      status = HttpStatus.BAD_REQUEST;
      body = { statusCode: status, code: 'EXPORT_INVALID_REQUEST', message: messageOf(exception) };
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      body = { statusCode: status, code: status >= 500 ? 'EXPORT_INTERNAL_ERROR' : 'EXPORT_INVALID_REQUEST', message: messageOf(exception) };
    } else {
      status = HttpStatus.INTERNAL_SERVER_ERROR;
      body = { statusCode: status, code: 'EXPORT_INTERNAL_ERROR', message: 'Internal error.' };
      this.logger.error(`Unexpected ${(exception as Error)?.name ?? 'error'} in an export endpoint`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (req.method === 'HEAD') {
      res.statusCode = status;
      res.end();
      return;
    }
    sendJson(res, status, body);
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse() as string | { message?: unknown };
  const message = typeof response === 'string' ? response : response?.message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}
