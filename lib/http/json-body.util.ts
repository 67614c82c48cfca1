import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpStatus } from '@nestjs/common';
import { ExportException, ExportInvalidRequestException, ExportUnsupportedMediaTypeException } from '../common/export.exception';

/** body-parser's default limit, which a host's JSON parser applies to the other JSON bodies. */
export const JSON_BODY_LIMIT = 100 * 1024;

/** The charset of a `Content-Type` header, lowercase, if it names one. */
function charsetOf(headers: IncomingHttpHeaders): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers['content-type'] ?? '')?.[1].toLowerCase();
}

/** Refuses a charset other than UTF-8 with 415. */
function assertUtf8(headers: IncomingHttpHeaders): void {
  const charset = charsetOf(headers);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ExportUnsupportedMediaTypeException('Send the request body as UTF-8 JSON.');
  }
}

/** Reads a stream up to the limit; past it the rest is read and dropped (destroying the request would lose the answer). */
function readLimited(stream: Readable, onError: () => Error): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > JSON_BODY_LIMIT) reject(new ExportException('EXPORT_INVALID_REQUEST', HttpStatus.PAYLOAD_TOO_LARGE, 'The request body is too large.'));
      else chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', () => reject(onError()));
  });
}

/** Parses UTF-8 JSON, or answers 400. */
function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ExportInvalidRequestException('The request body is not valid JSON.');
  }
}

/**
 * Reads a JSON body that the host's parser left unread (Nest's parses `application/json`
 * only, not `application/*+json`): UTF-8, not compressed, at most 100 KiB. A stream that is
 * already consumed yields `undefined`, as an absent body does.
 * @internal
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (typeof req.on !== 'function' || req.readableEnded || req.readableFlowing !== null) return undefined;
  assertUtf8(req.headers);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    throw new ExportUnsupportedMediaTypeException('Send the request body as UTF-8 JSON without Content-Encoding.');
  }
  return parseJson(await readLimited(req, () => new ExportInvalidRequestException('The request body could not be read.')));
}

/**
 * Reads a JSON body as Express's JSON parser (body-parser) does: UTF-8, `gzip`, `deflate` or
 * `br` compression inflated, at most 100 KiB once inflated. Returns the parsed value and the
 * UTF-8 text it was parsed from. Used where the adapter's own parser answers in another shape
 * (Fastify).
 * @internal
 */
export async function readCompressedJsonBody(stream: Readable, headers: IncomingHttpHeaders): Promise<{ value: unknown; text: Buffer }> {
  assertUtf8(headers);
  const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
  const inflate = { identity: undefined, gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress }[encoding];
  if (inflate === undefined && encoding !== 'identity') {
    throw new ExportUnsupportedMediaTypeException(`The Content-Encoding "${encoding.slice(0, 32)}" is not read here. Send UTF-8 JSON.`);
  }
  const bad = () => new ExportInvalidRequestException('The request body could not be read (bad encoding or compression).');
  let source: Readable = stream;
  if (inflate) {
    const inflater = inflate();
    stream.on('error', (err) => inflater.destroy(err));
    source = stream.pipe(inflater);
  }
  const text = await readLimited(source, bad);
  return { value: parseJson(text), text };
}
