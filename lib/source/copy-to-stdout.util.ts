import type { Readable } from 'node:stream';

type CopyTo = typeof import('pg-copy-streams').to;
let copyTo: CopyTo | undefined;

/**
 * `COPY … TO STDOUT` as a readable stream of `pg-copy-streams`, loaded the first time a
 * PostgreSQL export copies (other hosts never load it), and guarded (see `guardCopyStream`).
 * Submit it with the `pg` client's `query()`.
 * @internal
 */
export function guardedCopyTo(sql: string): Readable {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  copyTo ??= (require('pg-copy-streams') as typeof import('pg-copy-streams')).to;
  return guardCopyStream(copyTo(sql));
}

/**
 * A COPY stream of `pg-copy-streams` (7.x) clears its buffers once its query fails (a cancel, a
 * connection destroyed), yet a read of the stream after that still parses what is left on the
 * connection: when the server's error reply was split across two socket reads, the next read
 * throws a TypeError outside any promise, which ends the process. Reads after that point do
 * nothing here; the stream's 'error' has already been emitted.
 * @internal
 */
export function guardCopyStream<T extends Readable>(stream: T): T {
  const internals = stream as unknown as { _forward?: () => void; _buffer?: unknown };
  const forward = internals._forward;
  if (typeof forward !== 'function') return stream;
  internals._forward = function (this: typeof internals): void {
    if (this._buffer !== null) forward.call(this);
  };
  return stream;
}
