import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { createHash } from 'node:crypto';
import { EXPORT_QUEUE } from '../common/export.constants';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import { ExportQueueUnavailableException } from '../common/export.exception';
import { withTimeout } from '../common/timeout.util';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';

/**
 * The per-account rate limit of instant downloads, kept in the queue's Redis (under the queue's
 * key prefix): one `SET key NX PX cooldown` per attempt, atomic across every API process, and
 * gone by itself when the cooldown ends. Redis not answering refuses the download (503
 * `EXPORT_QUEUE_UNAVAILABLE`): a limit that cannot be checked is not skipped.
 * @internal
 */
@Injectable()
export class InstantDownloadLimiter {
  constructor(
    @InjectQueue(EXPORT_QUEUE) private readonly queue: Queue,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
  ) {}

  /** Takes the account's slot for `cooldownMs`; returns 0, or the milliseconds until it is free. */
  async take(accountId: string, cooldownMs: number): Promise<number> {
    // Hashed: an account id of any length or character set makes a short, safe key.
    const key = this.queue.toKey(`instant:${createHash('sha256').update(accountId).digest('hex').slice(0, 32)}`);
    try {
      return await withTimeout(this.attempt(key, cooldownMs), this.options.enqueueTimeoutMs);
    } catch {
      throw new ExportQueueUnavailableException();
    }
  }

  private async attempt(key: string, cooldownMs: number): Promise<number> {
    const client = this.queue.client;
    if ((await client.set(key, '1', 'PX', cooldownMs, 'NX')) === 'OK') return 0;
    const left = await client.pttl(key);
    // Expired between the two calls: one more try.
    if (left <= 0) return (await client.set(key, '1', 'PX', cooldownMs, 'NX')) === 'OK' ? 0 : cooldownMs;
    return left;
  }
}
