import { PassThrough, Readable } from 'node:stream';
import { guardedCopyTo } from './copy-to-stdout.util';

/** One PostgreSQL backend message: a type byte, a length that counts itself, the body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const copyOutResponse = () => message('H', Buffer.from([0, 0, 1, 0, 0]));
/** A CopyData message holding one line of `bytes` characters. */
const copyData = (bytes: number) => message('d', Buffer.from(`${'x'.repeat(bytes - 1)}\n`));

/**
 * The COPY stream on a connection's socket, submitted as the `pg` client submits it (the
 * client's own data handler is the socket's one listener).
 */
function submitted(): { copy: Readable; socket: PassThrough; errors: Error[] } {
  const copy = guardedCopyTo('COPY (SELECT 1) TO STDOUT');
  const socket = new PassThrough();
  const errors: Error[] = [];
  copy.on('error', (err) => errors.push(err));
  socket.on('data', () => undefined);
  (copy as unknown as { submit(connection: unknown): void }).submit({ stream: socket, query: () => undefined });
  return { copy, socket, errors };
}

describe('a COPY stream whose connection fails while rows wait on it', () => {
  it('is read to its end without parsing the rows left on the connection, which the failure cleared its buffers for', async () => {
    const { copy, socket, errors } = submitted();
    // The consumer has more than the stream buffers (16 KiB): the stream stops reading the socket.
    socket.write(Buffer.concat([copyOutResponse(), copyData(20_000)]));
    copy.read(0);
    expect(copy.readableLength).toBe(20_000);
    // More rows arrive and wait on the socket; then the connection fails (the client is ended
    // while the COPY runs: the `pg` client fails the active query, and destroys the socket).
    socket.write(copyData(100));
    (copy as unknown as { handleError(err: Error): void }).handleError(new Error('Connection terminated'));
    socket.destroy();
    // The consumer drains what the stream holds. Unguarded, the read below the high-water mark
    // parses the waiting rows into a buffer the failure cleared: a TypeError, emitted as a second
    // 'error' (which ended the process where the first one's listener was a `once`).
    let read = 0;
    for (let chunk: Buffer | null; (chunk = copy.read() as Buffer | null) !== null; ) read += chunk.length;
    await new Promise((resolve) => setImmediate(resolve));
    expect(read).toBe(20_000);
    expect(errors.map((e) => e.message)).toEqual(['Connection terminated']);
  });
});
