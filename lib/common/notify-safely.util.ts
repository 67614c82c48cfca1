import type { Logger } from '@nestjs/common';

/**
 * Calls the notifier: its errors are logged by name only (they may quote addresses or links)
 * and never fail the export.
 * @internal
 */
export async function notifySafely(logger: Logger, call: () => Promise<void> | void): Promise<void> {
  try {
    await call();
  } catch (err) {
    logger.error(`The export notifier failed: ${(err as Error)?.name ?? 'Error'}`);
  }
}
