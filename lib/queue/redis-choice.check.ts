import { getSharedConfigToken } from '@nestjs/bull';
import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';

/** The warning, which names both fixes. @internal */
export const REDIS_NOT_CHOSEN_WARNING =
  'The export queue has no Redis configured: neither the "redis" option of ExportModule nor ' +
  'a BullModule.forRoot() in the app is set, so Bull connects to its default, 127.0.0.1:6379. ' +
  'Set "redis" in ExportModule.forRoot() (a URL or ioredis options), or add ' +
  'BullModule.forRoot({ redis }) to the app to share its connection.';

/**
 * Says at boot when the export queue's Redis was not chosen on purpose: with neither the
 * `redis` option nor a host `BullModule.forRoot()`, Bull silently falls back to 127.0.0.1:6379,
 * which is rarely the Redis a deployed app means.
 * @internal
 */
@Injectable()
export class RedisChoiceCheck implements OnModuleInit {
  private readonly logger = new Logger('ExportModule');

  constructor(
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    @Optional() @Inject(getSharedConfigToken()) private readonly hostBullConfig?: unknown,
  ) {}

  onModuleInit(): void {
    if (this.options.redis === undefined && this.hostBullConfig === undefined) {
      this.logger.warn(REDIS_NOT_CHOSEN_WARNING);
    }
  }
}
