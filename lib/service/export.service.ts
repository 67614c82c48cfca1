import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, In, Repository } from 'typeorm';
import { ExportClock } from '../clock/export.clock';
import { DataExport, ExportFilters } from '../entities/data-export.entity';
import { ExportFormat, ExportStatus } from '../enums/export-status.enum';
import {
  ExportAlreadyActiveException,
  ExportCooldownException,
  ExportForbiddenException,
  ExportInvalidRequestException,
  ExportNotFoundException,
  ExportUnauthenticatedException,
} from '../exceptions/export.exception';
import { EXPORT_DATA_SOURCE, EXPORT_RESOLVED_OPTIONS } from '../export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import { ExportProducer } from '../queue/export.producer';
import { ExportRegistry } from '../registry/export.registry';
import type { ExportPrincipal } from './export-principal.interface';
import type { ExportView } from './export-view.interface';
import type { RequestExportInput } from './request-export.interface';
import { isUniqueViolation } from '../utils/unique-violation.util';

/**
 * The export API for code: request, read and list an account's exports. Every rule is enforced
 * here, whatever calls it.
 * @publicApi
 */
@Injectable()
export class ExportService {
  constructor(
    @Inject(EXPORT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EXPORT_RESOLVED_OPTIONS) private readonly options: ResolvedExportOptions,
    private readonly registry: ExportRegistry,
    private readonly producer: ExportProducer,
    private readonly clock: ExportClock,
  ) {}

  private get repo(): Repository<DataExport> {
    return this.dataSource.getRepository(DataExport);
  }

  /**
   * Requests an export of the principal's account. It is queued at once, or waits for email
   * confirmation when `confirmation.required` is set.
   * @throws ExportForbiddenException, ExportInvalidRequestException, ExportAlreadyActiveException,
   *   ExportCooldownException, ExportQueueUnavailableException
   */
  async request(principal: ExportPrincipal | null | undefined, input: RequestExportInput = {}): Promise<ExportView> {
    const who = this.authorize(principal);
    const { format, filters } = this.validateInput(input);
    const now = this.clock.now();
    await this.assertNoCooldown(who.accountId, now);
    const confirmed = !this.options.confirmation.required;
    const row = this.repo.create({
      id: randomUUID(),
      accountId: who.accountId,
      requestedBy: who.userId,
      requesterEmail: who.email ?? null,
      status: confirmed ? ExportStatus.Confirmed : ExportStatus.Pending,
      format,
      filters,
      activeSlot: who.accountId,
      createdAt: now,
      confirmedAt: confirmed ? now : null,
    });
    try {
      await this.repo.insert(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const active = await this.repo.findOne({ where: { activeSlot: who.accountId }, select: { id: true } });
      throw new ExportAlreadyActiveException(active?.id ?? null);
    }
    if (confirmed) {
      try {
        await this.producer.enqueue(row.id);
      } catch (err) {
        await this.repo.update(
          { id: row.id },
          { status: ExportStatus.Failed, activeSlot: null, error: 'The job queue was unavailable.' },
        );
        throw err;
      }
    }
    return toExportView(row);
  }

  /** One export of the principal's account. @throws ExportNotFoundException */
  async get(principal: ExportPrincipal | null | undefined, id: string): Promise<ExportView> {
    return toExportView(await this.findOwned(this.authorize(principal), id));
  }

  /** The account's exports, newest first. */
  async list(principal: ExportPrincipal | null | undefined, limit = 50): Promise<ExportView[]> {
    const who = this.authorize(principal);
    const rows = await this.repo.find({ where: { accountId: who.accountId }, order: { createdAt: 'DESC' }, take: limit });
    return rows.map(toExportView);
  }

  /** @internal The stored row, scoped to the principal's account. */
  async findOwned(who: ExportPrincipal, id: string): Promise<DataExport> {
    const row = typeof id === 'string' && id.length <= 64 ? await this.repo.findOneBy({ id, accountId: who.accountId }) : null;
    if (!row) throw new ExportNotFoundException();
    return row;
  }

  /** Checks the principal is present and allowed; returns it. */
  protected authorize(principal: ExportPrincipal | null | undefined): ExportPrincipal {
    if (!principal || typeof principal.accountId !== 'string' || !principal.accountId || typeof principal.userId !== 'string') {
      throw new ExportUnauthenticatedException();
    }
    if (!this.options.allowedRoles.includes(principal.role)) throw new ExportForbiddenException();
    return principal;
  }

  private async assertNoCooldown(accountId: string, now: Date): Promise<void> {
    const last = await this.repo.findOne({
      where: { accountId, status: In([ExportStatus.Completed, ExportStatus.Expired]) },
      order: { completedAt: 'DESC' },
    });
    if (!last?.completedAt) return;
    if (last.status === ExportStatus.Completed && last.activeSlot) {
      throw new ExportAlreadyActiveException(last.id);
    }
    const availableAt = new Date(last.completedAt.getTime() + this.options.cooldownMs);
    if (availableAt > now) throw new ExportCooldownException(availableAt, now);
  }

  private validateInput(input: RequestExportInput): { format: ExportFormat; filters: ExportFilters } {
    const format = input.format ?? ExportFormat.Zip;
    if (format !== ExportFormat.Zip && format !== ExportFormat.Json) {
      throw new ExportInvalidRequestException('format must be "zip" or "json".', { validFormats: ['zip', 'json'] });
    }
    const valid = this.registry.getCategoryNames();
    const categories = input.categories;
    if (categories !== undefined) {
      const unknown = Array.isArray(categories) ? categories.filter((c) => !valid.includes(c)) : ['(not a list)'];
      if (unknown.length > 0 || categories.length === 0) {
        throw new ExportInvalidRequestException(`Unknown categories: ${unknown.join(', ') || '(none given)'}.`, {
          validCategories: valid,
        });
      }
    }
    const since = parseDate('since', input.since);
    const until = parseDate('until', input.until);
    if (since && until && since >= until) {
      throw new ExportInvalidRequestException('"since" must be before "until".');
    }
    const filters: ExportFilters = {};
    if (categories) filters.categories = [...new Set(categories)];
    if (since) filters.since = since.toISOString();
    if (until) filters.until = until.toISOString();
    if (input.includeDeleted) filters.includeDeleted = true;
    return { format: format as ExportFormat, filters };
  }
}

function parseDate(name: string, value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new ExportInvalidRequestException(`"${name}" must be an ISO-8601 date.`);
  }
  return date;
}

/** The client view of an export row. @internal */
export function toExportView(row: DataExport): ExportView {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  return {
    id: row.id,
    status: row.status,
    format: row.format,
    filters: row.filters ?? {},
    progress: {
      percent: row.percent ?? 0,
      rowsDone: row.rowsDone ?? 0,
      rowsEstimated: row.rowsEstimated ?? null,
      category: row.currentCategory ?? null,
    },
    counts: row.counts ?? null,
    size: row.size ?? null,
    sha256: row.sha256 ?? null,
    error: row.error ?? null,
    createdAt: row.createdAt.toISOString(),
    confirmedAt: iso(row.confirmedAt),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    expiresAt: iso(row.expiresAt),
    downloadCount: row.downloadCount ?? 0,
  };
}
