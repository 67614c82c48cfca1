import {
  Body,
  Controller,
  Delete,
  Get,
  Head,
  HttpCode,
  HttpStatus,
  Inject,
  MessageEvent,
  Param,
  Post,
  Query,
  Req,
  Res,
  Sse,
  Type,
  UseFilters,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { defer, filter, from, interval, map, merge, Observable, startWith, switchMap, takeWhile } from 'rxjs';
import { FINAL_STATUSES, STATUS_RANK } from '../lifecycle/export.store';
import { ExportInvalidRequestException, ExportRangeNotSatisfiableException } from '../common/export.exception';
import { EXPORT_RESOLVED_OPTIONS } from '../common/export.internal-constants';
import type { ResolvedExportOptions } from '../options/export-module-options.interface';
import type { ExportEligibility } from '../interfaces/export-eligibility.interface';
import type { ExportPrincipal } from '../interfaces/export-principal.interface';
import type { ExportView } from '../interfaces/export-view.interface';
import type { ExportEstimate } from '../interfaces/export-estimate.interface';
import { parseExportQuery } from './export-query.util';
import { sendInstantDownload } from './instant-download.util';
import type { ExportDownload, ExportDownloadInfo, ExportRangeChooser } from '../service/export-downloads';
import { ExportService } from '../service/export.service';
import { confirmationStateOf } from '../service/export-requests';
import { sendConfirmationPage } from './confirm-page.util';
import { sendDownload } from './download-response.util';
import { CreateExportDto } from './dto/create-export.dto';
import { ExportExceptionFilter } from './export-exception.filter';
import { ParseExportIdPipe } from './export-id.pipe';
import { parseRange } from './range.util';
import { isJsonType, mediaType, originalContentType, prefersHtml, sendJson, takeResponse } from './http-adapter.util';
import { ExportRequestBodyGuard } from './request-body.guard';
import { ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from './swagger.util';


/** Validation scoped to the controller: it works with or without a global ValidationPipe. */
const createValidationPipe = () => new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) =>
    new ExportInvalidRequestException(
      errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` })).join('; ') || 'Invalid request.',
    ),
});

/** The routes of the built-in endpoints, as `ExportController.beforeRoute` names them. @publicApi */
export type ExportRoute = 'request' | 'list' | 'eligibility' | 'estimate' | 'instant' | 'get' | 'events' | 'confirmPage' | 'confirm' | 'download' | 'cancel';

/**
 * The built-in endpoints, as a class a host can extend to mount them under its own
 * `@Controller(path)` with its own guards (set `http: false` and the same `path` in
 * `ExportModule`, so that links point at it). Guards on the subclass apply to every route; for
 * one route, override `beforeRoute`. The error filter and the body validation are inherited.
 *
 * @example
 * @Controller('account/exports')
 * @UseGuards(SessionGuard)
 * export class AccountExportController extends ExportController {
 *   protected beforeRoute(route: ExportRoute, req: Request): void {
 *     if (route === 'cancel' && !req.session.recentlyAuthenticated) throw new ForbiddenException();
 *   }
 * }
 * @publicApi
 */
@ApiTags('Data export')
@UseFilters(ExportExceptionFilter)
@UsePipes(createValidationPipe())
export class ExportController {
  constructor(
    protected readonly exports: ExportService,
    @Inject(EXPORT_RESOLVED_OPTIONS) protected readonly options: ResolvedExportOptions,
  ) {}

  @Post()
  @UseGuards(new ExportRequestBodyGuard())
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Request an export of the signed-in account', description: "kind: 'personal' exports a member's own data (any role), or with userId a member's data on their behalf (owners and admins)." })
  @ApiResponse({ status: 202, description: 'The export, queued (or pending confirmation).' })
  @ApiResponse({ status: 403, description: 'EXPORT_FORBIDDEN' })
  @ApiResponse({ status: 404, description: 'EXPORT_NOT_FOUND (userId is not a member of the account)' })
  @ApiResponse({ status: 409, description: 'EXPORT_ALREADY_ACTIVE' })
  @ApiResponse({ status: 415, description: 'EXPORT_UNSUPPORTED_MEDIA_TYPE' })
  @ApiResponse({ status: 429, description: 'EXPORT_COOLDOWN' })
  async request(@Req() req: Request, @Body() body: CreateExportDto): Promise<ExportView> {
    await this.beforeRoute('request', req);
    return this.exports.request(this.principal(req), body ?? {});
  }

  @Get()
  @ApiOperation({ summary: "The signed-in member's personal exports and, for owners and admins, the account's exports, newest first" })
  async list(@Req() req: Request): Promise<ExportView[]> {
    await this.beforeRoute('list', req);
    return this.exports.list(this.principal(req));
  }

  // Declared before ':id', which would otherwise take the word as an id.
  @Get('eligibility')
  @ApiOperation({ summary: 'Whether the signed-in principal may request an export now; if not, why and from when' })
  @ApiQuery({ name: 'kind', required: false, enum: ['account', 'personal'] })
  async eligibility(@Req() req: Request, @Query('kind') kind?: unknown): Promise<ExportEligibility> {
    await this.beforeRoute('eligibility', req);
    if (kind !== undefined && typeof kind !== 'string') throw new ExportInvalidRequestException('kind must be "account" or "personal".');
    return this.exports.eligibility(this.principal(req), kind ?? 'account');
  }

  @Get('estimate')
  @ApiOperation({ summary: 'How big an export with these filters would be: rows per category, approximate archive size' })
  @ApiQuery({ name: 'format', required: false, enum: ['zip', 'json', 'json.gz'] })
  @ApiQuery({ name: 'categories', required: false, description: 'Repeated, or a comma list' })
  @ApiQuery({ name: 'since', required: false })
  @ApiQuery({ name: 'until', required: false })
  @ApiQuery({ name: 'includeDeleted', required: false, enum: ['true', 'false'] })
  async estimate(@Req() req: Request, @Query() query: Record<string, unknown>): Promise<ExportEstimate> {
    await this.beforeRoute('estimate', req);
    return this.exports.estimate(this.principal(req), parseExportQuery(query));
  }

  @Get('instant')
  @ApiOperation({ summary: 'Download the archive of a small account at once (the `instant` option); the same query parameters as the estimate' })
  @ApiProduces('application/zip', 'application/json', 'application/gzip')
  @ApiResponse({ status: 404, description: 'EXPORT_INSTANT_DISABLED' })
  @ApiResponse({ status: 409, description: 'EXPORT_TOO_LARGE_FOR_INSTANT' })
  @ApiResponse({ status: 429, description: 'EXPORT_INSTANT_RATE_LIMITED' })
  async instant(@Req() req: Request, @Res() res: Response, @Query() query: Record<string, unknown>): Promise<void> {
    await this.beforeRoute('instant', req);
    await sendInstantDownload(res, await this.exports.instant(this.principal(req), parseExportQuery(query)));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One export, with a fresh download link when completed' })
  @ApiParam({ name: 'id' })
  async get(@Req() req: Request, @Param('id', ParseExportIdPipe) id: string): Promise<ExportView> {
    await this.beforeRoute('get', req);
    return this.exports.get(this.principal(req), id);
  }

  @Sse(':id/events')
  @ApiOperation({ summary: 'Server-Sent Events: `progress` while processing, then one final `status`' })
  async events(@Req() req: Request, @Param('id', ParseExportIdPipe) id: string): Promise<Observable<MessageEvent>> {
    await this.beforeRoute('events', req);
    const principal = this.principal(req);
    const first = await this.exports.get(principal, id);
    const pushed = this.exports.events$.pipe(
      filter((e) => e.exportId === first.id),
      map((e) => e.export),
    );
    // Re-reading the row follows jobs that run in other processes.
    const polled = interval(this.options.progressIntervalMs).pipe(switchMap(() => defer(() => from(this.exports.get(principal, id)))));
    return merge(pushed, polled).pipe(
      startWith(first),
      // Pushed events and polled reads can arrive out of order: never let the stream go back.
      filter(monotonic()),
      takeWhile((view) => !FINAL_STATUSES.includes(view.status), true),
      map((view) => ({ type: FINAL_STATUSES.includes(view.status) ? 'status' : 'progress', data: strip(view) })),
    );
  }

  @Get(':id/confirm')
  @ApiOperation({ summary: 'Confirmation link: a page for the export\'s state; awaiting confirmation, a button that POSTs (a GET changes nothing)' })
  @ApiProduces('text/html')
  async confirmPage(@Req() req: Request, @Res() res: Response, @Param('id', ParseExportIdPipe) id: string, @Query('token') token: unknown): Promise<void> {
    await this.beforeRoute('confirmPage', req);
    const state = await this.exports.confirmationState(id, token);
    sendConfirmationPage(this.options, req, res, id, state);
  }

  @Post(':id/confirm')
  @UseGuards(new ExportRequestBodyGuard({ emptyForm: true }))
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Confirm a pending export with the token of its confirmation link' })
  @ApiQuery({ name: 'token' })
  async confirm(@Req() req: Request, @Res() res: Response, @Param('id', ParseExportIdPipe) id: string, @Query('token') token: unknown): Promise<void> {
    await this.beforeRoute('confirm', req);
    const view = await this.exports.confirm(id, token);
    const type = mediaType(originalContentType(req));
    if (type === 'application/x-www-form-urlencoded' || (prefersHtml(req.headers.accept) && !isJsonType(type))) {
      return sendConfirmationPage(this.options, req, res, id, confirmationStateOf(view.status));
    }
    sendJson(takeResponse(res), HttpStatus.OK, view);
  }

  @Head(':id/download')
  async head(@Req() req: Request, @Res() res: Response, @Param('id', ParseExportIdPipe) id: string, @Query('token') token: unknown): Promise<void> {
    await this.download(req, res, id, token, true);
  }

  @Get(':id/download')
  @ApiOperation({ summary: 'Download the archive (supports Range)' })
  @ApiQuery({ name: 'token' })
  @ApiProduces('application/zip', 'application/json')
  async get_download(@Req() req: Request, @Res() res: Response, @Param('id', ParseExportIdPipe) id: string, @Query('token') token: unknown): Promise<void> {
    await this.download(req, res, id, token, false);
  }

  @Delete(':id')
  @UseGuards(new ExportRequestBodyGuard())
  @ApiOperation({ summary: 'Cancel an export, or delete a completed one early' })
  async cancel(@Req() req: Request, @Param('id', ParseExportIdPipe) id: string): Promise<ExportView> {
    await this.beforeRoute('cancel', req);
    return this.exports.cancel(this.principal(req), id);
  }

  /**
   * Runs before every route, with the route's name: throw (an `HttpException`, or one of the
   * library's) to refuse it. A host's per-route rule goes here; it does nothing by default.
   */
  protected beforeRoute(_route: ExportRoute, _req: Request): void | Promise<void> {
    return undefined;
  }

  /** GET and HEAD of a download link (one token check, one read of the export). */
  protected async download(req: Request, res: Response, id: string, token: unknown, headOnly: boolean): Promise<void> {
    await this.beforeRoute('download', req);
    // The service checks the principal (another account's is refused, even with the link).
    const context = { principal: this.principal(req), ip: req.ip ?? null, userAgent: req.headers?.['user-agent'] ?? null };
    // The range is chosen once the archive is known: a stale If-Range sends the whole file.
    const choose: ExportRangeChooser = (archive) => {
      const ifRange = req.headers['if-range'];
      return ifRange === undefined || ifRange === `"${archive.sha256}"` ? parseRange(req.headers.range, archive.size) : undefined;
    };
    let meta: ExportDownloadInfo;
    let wanted: ReturnType<ExportRangeChooser>;
    let download: ExportDownload | undefined;
    if (headOnly) {
      meta = await this.exports.describeDownload(id, token, context);
      wanted = choose(meta);
    } else {
      // One call: the link checked, the export read, the download opened and counted before
      // any header is set, so that a refusal answers in the error shape, not as an attachment.
      try {
        download = meta = await this.exports.openDownload(id, token, choose, context);
      } catch (err) {
        if (err instanceof ExportRangeNotSatisfiableException) takeResponse(res).setHeader('Content-Range', `bytes */${err.size}`);
        throw err;
      }
      wanted = download.range;
    }
    await sendDownload(takeResponse(res), meta, wanted, download);
  }

  /** The request's principal, from the `principal` option's resolver; override to read it elsewhere. */
  protected principal(req: Request): ExportPrincipal | null {
    const principal = this.options.principal(req);
    return principal && typeof principal === 'object' ? principal : null;
  }
}

/**
 * The built-in controller under `path`. A fresh class per module registration keeps route
 * metadata off any shared class.
 * @internal
 */
export function createExportController(path: string): Type<ExportController> {
  @Controller(path)
  class BuiltInExportController extends ExportController {}
  return BuiltInExportController;
}

/** Events carry the view without a download link. */
function strip(view: ExportView): ExportView {
  const { downloadUrl: _omit, ...rest } = view;
  return rest;
}

/**
 * A filter that passes a view only when it is news: a later status, or more rows done in the
 * same status. (A retry's restart is shown once it passes the earlier progress.)
 */
function monotonic(): (view: ExportView) => boolean {
  let rank = -1;
  let rows = -1;
  return (view) => {
    const r = STATUS_RANK[view.status];
    if (r < rank || (r === rank && view.progress.rowsDone <= rows)) return false;
    rank = r;
    rows = view.progress.rowsDone;
    return true;
  };
}
