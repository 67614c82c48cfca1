import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request and response objects the built-in endpoints receive differ by HTTP adapter:
 * Express's are Node's own `IncomingMessage` / `ServerResponse` (extended), Fastify's wrap them
 * as `raw`. The endpoints read headers, the URL and the client address (which both have) and
 * write every streamed or hand-made answer to Node's `ServerResponse`, so that one code path
 * serves both adapters.
 */

/** What the endpoints read of a request, on Express and on Fastify. @internal */
export interface AnyHttpRequest {
  headers: IncomingHttpHeaders;
  method?: string;
  url?: string;
  originalUrl?: string;
  ip?: string;
  body?: unknown;
  raw?: IncomingMessage & { body?: unknown };
}

/**
 * Node's response under a host's response object. On Fastify the reply is told that the route
 * answers by itself (`hijack()`), so that Fastify sends nothing more.
 * @internal
 */
export function takeResponse(res: unknown): ServerResponse {
  const reply = res as { raw?: ServerResponse; hijack?: () => void };
  if (reply.raw && typeof reply.hijack === 'function') {
    reply.hijack();
    return reply.raw;
  }
  return res as ServerResponse;
}

/** Node's request under a host's request object. @internal */
export function nodeRequest(req: unknown): IncomingMessage {
  const request = req as { raw?: IncomingMessage };
  return request.raw && typeof request.raw.on === 'function' ? request.raw : (req as IncomingMessage);
}

/** Sets a header on a response that the adapter still sends (Nest's `passthrough` responses). @internal */
export function setReplyHeader(res: unknown, name: string, value: string): void {
  const reply = res as { raw?: unknown; header?: (name: string, value: string) => unknown; setHeader?: (name: string, value: string) => unknown };
  if (reply.raw && typeof reply.header === 'function') reply.header(name, value);
  else reply.setHeader?.(name, value);
}

/** The path and query a request was sent to (Express's `originalUrl` keeps a mount path). @internal */
export function requestUrl(req: AnyHttpRequest): string {
  return req.originalUrl ?? req.url ?? '/';
}

/** Where the Fastify hook keeps the `Content-Type` of an empty body it hid from Fastify's parsers. */
export const ORIGINAL_CONTENT_TYPE = Symbol('data-export.original-content-type');

/** A request's `Content-Type`, as the client sent it. @internal */
export function originalContentType(req: unknown): string | undefined {
  const raw = nodeRequest(req) as IncomingMessage & { [ORIGINAL_CONTENT_TYPE]?: string };
  return raw[ORIGINAL_CONTENT_TYPE] ?? raw.headers['content-type'];
}

/** The media type of a `Content-Type` header, lowercase and without parameters. @internal */
export function mediaType(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  return String(header).split(';')[0].trim().toLowerCase();
}

/** Whether a media type is JSON: `application/json` or `application/*+json`. @internal */
export function isJsonType(type: string | undefined): boolean {
  return type !== undefined && /^application\/(?:json|[^\s/;]+\+json)$/.test(type);
}

/** How much an `Accept` header accepts a media type (its q-value; the most specific match counts). */
function quality(accept: string, type: string): number {
  let best = -1;
  let bestSpecificity = -1;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const [rangeType, rangeSub] = range.trim().split('/');
    const [wantedType, wantedSub] = type.split('/');
    let specificity = -1;
    if (rangeType === wantedType && rangeSub === wantedSub) specificity = 2;
    else if (rangeType === wantedType && rangeSub === '*') specificity = 1;
    else if (rangeType === '*' && rangeSub === '*') specificity = 0;
    if (specificity > bestSpecificity) {
      bestSpecificity = specificity;
      best = q === undefined ? 1 : Number(q);
    }
  }
  return best;
}

/**
 * Whether a request asks for HTML rather than JSON (a browser's `Accept`); JSON wins a tie and
 * an absent header.
 * @internal
 */
export function prefersHtml(accept: string | string[] | undefined): boolean {
  if (accept === undefined) return false;
  const header = String(accept);
  return quality(header, 'text/html') > Math.max(0, quality(header, 'application/json'));
}

/** Sends a JSON body on Node's response. @internal */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(text)));
  res.end(text);
}

/** Sends an HTML page on Node's response. @internal */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(html)));
  res.end(html);
}
