import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Readable } from 'node:stream';
import { EXPORT_ROUTE_PATH } from '../common/export.internal-constants';
import { ExportException, ExportUnsupportedMediaTypeException } from '../common/export.exception';
import { ORIGINAL_CONTENT_TYPE, isJsonType, mediaType } from './http-adapter.util';
import { readCompressedJsonBody } from './json-body.util';
import { assertPlainJson } from './request-body.guard';

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
    const type = adapter?.getType();
    if (type !== 'express' && type !== 'fastify') return;
    const route = new RegExp(`(^|/)${this.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`);
    if (type === 'fastify') return installFastifyBodyHook(adapter!.getInstance(), route);
    adapter!.use((err: BodyParserError, req: { path?: string }, res: any, next: (err?: unknown) => void) => {
      const status = err?.status ?? err?.statusCode;
      if (!err || !isRequestReadError(err) || typeof status !== 'number' || status < 400 || status >= 500 || !route.test(req.path ?? '')) {
        return next(err);
      }
      const answer = answerOf(err, status);
      res.status(answer.statusCode).json(answer);
    });
  }
}

/** What the hook uses of Fastify's request and reply. */
interface FastifyHookRequest {
  url: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  raw: { headers: Record<string, string | string[] | undefined>; [ORIGINAL_CONTENT_TYPE]?: string };
}
interface FastifyHookReply {
  code(status: number): FastifyHookReply;
  send(body: unknown): FastifyHookReply;
}

/**
 * On Fastify, bodies are parsed before routing by Fastify's own parsers, whose refusals (a
 * type without a parser, malformed JSON, compression) would answer in Fastify's shape. For the
 * export routes this hook reads the body first, as Express's JSON parser would (UTF-8, gzip,
 * deflate or br, 100 KiB), answers a body it cannot read in the library's error shape, and
 * hands Fastify's JSON parser the plain text. An empty body is hidden from Fastify's parsers
 * (its type is kept for the body guard), a non-JSON body is refused with 415.
 */
function installFastifyBodyHook(instance: { addHook(name: 'preParsing', hook: (...args: any[]) => Promise<unknown>): unknown }, route: RegExp): void {
  instance.addHook('preParsing', async (request: FastifyHookRequest, reply: FastifyHookReply, payload: Readable & { receivedEncodedLength?: number }) => {
    if (!route.test(request.url.split('?')[0])) return payload;
    const headers = request.raw.headers;
    const hasBody = headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
    const type = mediaType(headers['content-type']);
    if (!hasBody) {
      if (type !== undefined) {
        request.raw[ORIGINAL_CONTENT_TYPE] = String(headers['content-type']);
        delete headers['content-type'];
      }
      return payload;
    }
    try {
      if (!isJsonType(type)) throw new ExportUnsupportedMediaTypeException();
      const { value, text } = await readCompressedJsonBody(payload, headers);
      assertPlainJson(value);
      // Fastify's JSON parser reads the plain text (and `+json` as JSON).
      headers['content-type'] = 'application/json';
      delete headers['content-encoding'];
      headers['content-length'] = String(text.length);
      delete headers['transfer-encoding'];
      return Readable.from([text]);
    } catch (err) {
      const exception = err instanceof ExportException ? err : new ExportException('EXPORT_INVALID_REQUEST', 400, 'The request body could not be read.');
      payload.resume();
      reply.code(exception.getStatus()).send(exception.getResponse());
      return reply;
    }
  });
}
