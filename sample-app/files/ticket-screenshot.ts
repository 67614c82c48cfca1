import { createReadStream, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { ExportFileSource } from 'nestjs-data-export';

/** Where the sample keeps its tickets' screenshots (generated on first use, so a start stays fast). */
export const SCREENSHOTS_DIR = process.env.SAMPLE_SCREENSHOTS_DIR ?? resolve(__dirname, '..', 'var', 'screenshots');

/** The name the seed gives every tenth ticket's screenshot. */
export function screenshotName(ticketNumber: number): string | null {
  return ticketNumber % 10 === 0 ? `ticket-${ticketNumber}.png` : null;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A small PNG (320×200): a window with a title bar and lines of "text", coloured by `seed`. */
export function drawScreenshot(seed: number): Buffer {
  const [w, h] = [320, 200];
  const hue = [(seed * 53) % 200, (seed * 97) % 200, (seed * 31) % 200];
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = y * (w * 3 + 1) + 1 + x * 3;
      const bar = y < 24;
      const text = y > 40 && (y - 40) % 18 < 6 && x > 16 && x < 40 + ((seed * 7 + y * 13) % 260);
      const noise = ((x * 7 + y * 13 + seed) * 2654435761) >>> 28;
      const rgb = bar ? hue : text ? [60, 60, 70] : [245 - noise, 245 - noise, 248 - noise];
      raw[at] = rgb[0];
      raw[at + 1] = rgb[1];
      raw[at + 2] = rgb[2];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** `@ExportFile`'s resolve for a ticket's screenshot: the PNG on disk, drawn the first time it is asked for. */
export function resolveTicketScreenshot(row: Record<string, unknown>): ExportFileSource {
  const name = row.screenshot;
  const id = row.id;
  if (typeof name !== 'string' || !/^ticket-\d+\.png$/.test(name) || typeof id !== 'string' || !/^[\w-]+$/.test(id)) return null;
  // One file per ticket (ticket numbers repeat across teams).
  const path = join(SCREENSHOTS_DIR, `${id}.png`);
  if (!existsSync(path)) {
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, drawScreenshot(Number(name.replace(/\D/g, ''))));
    renameSync(temp, path);
  }
  return { name, contentType: 'image/png', stream: () => createReadStream(path) };
}
