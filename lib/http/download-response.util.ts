import { HttpStatus } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ExportDownload, ExportDownloadInfo, ExportRangeChooser } from '../service/export-downloads';
import { contentDisposition } from './range.util';

/** Writes a download's headers and bytes on Node's response (the same on every adapter). @internal */
export async function sendDownload(res: ServerResponse, meta: ExportDownloadInfo, wanted: ReturnType<ExportRangeChooser>, download: ExportDownload | undefined): Promise<void> {
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', `"${meta.sha256}"`);
  res.setHeader('Content-Type', meta.contentType);
  res.setHeader('Content-Disposition', contentDisposition(meta.fileName));
  res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (wanted === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${meta.size}`);
    res.statusCode = HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE;
    return void res.end();
  }
  if (wanted) {
    res.statusCode = HttpStatus.PARTIAL_CONTENT;
    res.setHeader('Content-Range', `bytes ${wanted.start}-${wanted.end}/${meta.size}`);
    res.setHeader('Content-Length', String(wanted.end - wanted.start + 1));
  } else {
    res.statusCode = HttpStatus.OK;
    res.setHeader('Content-Length', String(meta.size));
  }
  if (!download) return void res.end();
  try {
    await pipeline(download.stream, res);
  } catch {
    // The client went away mid-download; it can resume with a Range request.
    download.stream.destroy();
  }
}
