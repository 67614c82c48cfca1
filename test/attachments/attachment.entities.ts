import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Exportable, ExportFile, ExportFileSource } from 'nestjs-data-export';

/** Text that deflates well: 600 bytes. */
export const NOTES = Buffer.from('Ticket notes. '.repeat(43).slice(0, 600), 'utf8');
/** Bytes that do not deflate (a PNG's would not either), 100 KiB. */
export const PICTURE = randomBytes(100 * 1024);
/** Random bytes with no content type: the trial deflate stores them. */
export const BLOB = randomBytes(80 * 1024);

/** How each document's files behave, by `kind` and field. */
type Behaviour = (row: Record<string, unknown>) => ExportFileSource | Promise<ExportFileSource>;

const ok = (name: string, data: Buffer, contentType?: string, size: number | null = data.length): ExportFileSource => ({
  name,
  ...(size === null ? {} : { size }),
  ...(contentType ? { contentType } : {}),
  stream: () => Readable.from([data.subarray(0, 40_000), data.subarray(40_000)].filter((b) => b.length > 0)),
});

/** A stream that gives its first bytes, then fails. */
const failingMidway = (): Readable =>
  new Readable({
    read() {
      if (!(this as { sent?: boolean }).sent) {
        (this as { sent?: boolean }).sent = true;
        this.push(Buffer.alloc(70 * 1024, 1));
      } else {
        this.destroy(new Error('disk read error'));
      }
    },
  });

/** A stream that gives its first bytes, then nothing, ever. */
const stalling = (): Readable =>
  new Readable({
    read() {
      if (!(this as { sent?: boolean }).sent) {
        (this as { sent?: boolean }).sent = true;
        this.push(Buffer.alloc(1000, 2));
      }
    },
  });

export const BEHAVIOURS: Record<string, Record<'fileA' | 'fileB' | 'fileC', Behaviour>> = {
  plain: {
    fileA: () => ok('notes.txt', NOTES, 'text/plain'),
    fileB: () => ok('shot.png', PICTURE, 'image/png'),
    fileC: () => ok('blob.bin', BLOB, undefined, null),
  },
  hostile: {
    fileA: () => ok('../x', NOTES),
    fileB: () => ok('/etc/passwd', NOTES),
    fileC: () => ok('\u0001ev\u0007il\nname\u202e.txt', NOTES),
  },
  names: {
    fileA: () => ok(`${'é'.repeat(300)}.txt`, NOTES),
    fileB: () => ok('Ünïcödé 文件.txt', NOTES),
    fileC: () => ok('ÜNÏCÖDÉ 文件.TXT', NOTES),
  },
  faults: {
    fileA: () => ({ name: 'big.mov', size: 5000, url: 'https://files.example.test/big.mov', expiresAt: '2030-01-01T00:00:00.000Z' }),
    fileB: () => {
      throw new Error('no such object');
    },
    fileC: () => ({ name: 'broken.bin', stream: failingMidway }),
  },
  slow: {
    fileA: () => ({ name: 'slow.bin', size: 3000, stream: stalling }),
    fileB: () => ok('liar.txt', NOTES, 'text/plain', 10),
    fileC: () => null,
  },
  dup: {
    fileA: () => ok('same.txt', NOTES),
    fileB: () => null,
    fileC: () => null,
  },
  odd: {
    fileA: () => ({ name: 'nothing.bin' }) as unknown as ExportFileSource,
    fileB: () => ({ name: 'link.bin', url: 'https://files.example.test/link.bin', expiresAt: 'not a date' }),
    fileC: () => null,
  },
  hung: {
    fileA: () => new Promise<never>(() => undefined),
    fileB: () => null,
    fileC: () => null,
  },
  gone: {
    fileA: () => ({ name: 'huge.bin', size: 5000, stream: () => Readable.from([]) }),
    fileB: () => ({ name: 'closed.bin', stream: () => Promise.reject(new Error('bucket unavailable')) }),
    fileC: () => {
      const s = new Readable({ read() {} });
      s.destroy(new Error('already failed'));
      return { name: 'early.bin', stream: s };
    },
  },
};

const by = (field: 'fileA' | 'fileB' | 'fileC') => (row: Record<string, unknown>) => BEHAVIOURS[row.kind as string][field](row);

/** Documents whose three fields each reference a file; `kind` says how the files behave. */
@Exportable({ category: 'documents', scope: 'teamId' })
@Entity('att_documents')
export class AttachedDocument {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @Column({ type: 'varchar', length: 32 }) kind: string;
  @ExportFile({ resolve: by('fileA'), maxBytes: '4KB', stallTimeout: '1s' }) @Column({ type: 'varchar', length: 200, nullable: true }) fileA: string | null;
  @ExportFile({ resolve: by('fileB'), stallTimeout: '1s' }) @Column({ type: 'varchar', length: 200, nullable: true }) fileB: string | null;
  @ExportFile({ resolve: by('fileC'), maxBytes: 1024 * 1024, stallTimeout: '1s' }) @Column({ type: 'varchar', length: 200, nullable: true }) fileC: string | null;
}

/** A document whose missing file fails the export (`onError: 'fail'`). */
@Exportable({ category: 'strict_documents', scope: 'teamId' })
@Entity('att_strict_documents')
export class StrictDocument {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64 }) teamId: string;
  @ExportFile({
    resolve: () => ({ name: 'x.bin', stream: () => Promise.reject(new Error('bucket unavailable')) }),
    onError: 'fail',
  })
  @Column({ type: 'varchar', length: 200, nullable: true })
  file: string | null;
}
