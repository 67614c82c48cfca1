import type { Logger } from '@nestjs/common';
import { FindOptionsWhere, In, Repository } from 'typeorm';
import type { DataExport } from '../entities/data-export.entity';
import type { ExportStatus } from '../enums/export-status.enum';

/**
 * A conditional status change: applies `set` only while the export is in one of `from`, so two
 * actors (a cancel and the worker, two sweepers) never both apply theirs. `where` narrows it
 * further (a run's fencing token). Returns whether it applied.
 * @internal
 */
export async function transitionExport(
  repo: Repository<DataExport>,
  id: string,
  from: readonly ExportStatus[],
  set: Partial<DataExport>,
  where: FindOptionsWhere<DataExport> = {},
): Promise<boolean> {
  const result = await repo.update({ ...where, id, status: In([...from]) }, set);
  return (result.affected ?? 0) > 0;
}

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
