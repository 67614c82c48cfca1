import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** One email as the demo outbox keeps it. */
export interface OutboxMail {
  id: string;
  kind: 'confirmation' | 'ready' | 'failed';
  exportId: string;
  messageId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  sentAt: string;
}

/**
 * The demo's mailbox: every email the sample "sends" lands here as a JSON file, so that the web
 * process shows mail sent by a separate worker process (`npm run sample:worker`) too.
 */
export class Outbox {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Stores a mail; the write is atomic (a reader never sees half a file). */
  add(mail: Omit<OutboxMail, 'id'>): OutboxMail {
    const id = `${Date.now().toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}`;
    const stored = { id, ...mail };
    const file = join(this.dir, `${id}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(stored, null, 2));
    renameSync(`${file}.tmp`, file);
    return stored;
  }

  /** Mails, newest first. */
  list(limit = 100): OutboxMail[] {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
    return files
      .sort()
      .reverse()
      .slice(0, limit)
      .flatMap((f) => {
        try {
          return [JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as OutboxMail];
        } catch {
          return [];
        }
      });
  }

  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }
}
