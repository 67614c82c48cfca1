import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** A problem found in one file of an archive: `file` names it in the verdict. @internal */
export class ArchiveProblem extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveProblem';
  }
}

/** SHA-256 of a whole file, streamed. @internal */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
