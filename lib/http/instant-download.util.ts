import type { ServerResponse } from 'node:http';
import { takeResponse } from './http-adapter.util';
import type { ExportInstantDownload } from '../service/export-instant';
import { contentDisposition } from './range.util';

/** Headers of an instant download, removed again when it fails before its first byte. */
const HEADERS = ['Content-Type', 'Content-Disposition', 'Cache-Control', 'X-Content-Type-Options', 'Referrer-Policy'];

/**
 * Sends an instant download. Its length is not known beforehand, so it goes out chunked; a
 * failure after the first byte destroys the connection (no final chunk: the client sees an
 * aborted download, never a short file that looks whole); a failure before it rejects, and the
 * error filter answers in the error shape. A client that goes away stops the archive.
 * @internal
 */
export function sendInstantDownload(reply: unknown, download: ExportInstantDownload): Promise<void> {
  const { stream } = download;
  const res: ServerResponse = takeResponse(reply);
  res.statusCode = 200;
  res.setHeader('Content-Type', download.contentType);
  res.setHeader('Content-Disposition', contentDisposition(download.fileName));
  res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  return new Promise<void>((resolve, reject) => {
    stream.once('error', (err) => {
      stream.unpipe(res);
      if (!res.headersSent) {
        for (const name of HEADERS) res.removeHeader(name);
        return reject(err);
      }
      res.destroy();
      resolve();
    });
    res.once('close', () => {
      if (!res.writableFinished) stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
