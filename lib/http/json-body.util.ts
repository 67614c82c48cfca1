import type { IncomingMessage } from 'node:http';
import { HttpStatus } from '@nestjs/common';
import { ExportException, ExportInvalidRequestException, ExportUnsupportedMediaTypeException } from '../common/export.exception';

/** body-parser's default limit, which a host's JSON parser applies to the other JSON bodies. */
const LIMIT = 100 * 1024;

/**
 * Reads a JSON body that the host's parser left unread (Nest's parses `application/json`
 * only, not `application/*+json`): UTF-8, not compressed, at most 100 KiB. A stream that is
 * already consumed yields `undefined`, as an absent body does.
 * @internal
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (typeof req.on !== 'function' || req.readableEnded || req.readableFlowing !== null) return undefined;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if ((charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') || encoding !== 'identity') {
    throw new ExportUnsupportedMediaTypeException('Send the request body as UTF-8 JSON without Content-Encoding.');
  }
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    // Past the limit the rest is read and dropped: destroying the request would lose the answer.
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > LIMIT) reject(new ExportException('EXPORT_INVALID_REQUEST', HttpStatus.PAYLOAD_TOO_LARGE, 'The request body is too large.'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new ExportInvalidRequestException('The request body could not be read.')));
  });
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ExportInvalidRequestException('The request body is not valid JSON.');
  }
}
