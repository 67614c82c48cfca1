import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ExportAdminItem, ExportAdminService, ExportAuditRecord, ExportException } from 'nestjs-data-export';
import { DemoRequest, isSupport, SUPPORT_USER } from './demo-auth';
import { esc, layout } from './html';
import { QUEUE_BOARD_PATH } from './queue-board';

/** What each audit record type reads as on the admin page. */
const EVENT_LABELS: Record<string, string> = {
  requested: 'Requested',
  'admin.requested': 'Requested by support',
  confirmed: 'Confirmed by email',
  started: 'Started',
  completed: 'Ready to download',
  requeued: 'Queued again',
  failed: 'Failed',
  downloaded: 'Downloaded',
  deleted: 'Deleted by the team',
  cancelled: 'Cancelled',
  expired: 'Expired',
  'admin.force-expired': 'Force-expired by support',
  'admin.retried': 'Retried by support',
  'admin.cancelled': 'Cancelled by support',
};

/** The support agent's card on the sign-in page (staff, not one of the seeded team members: `data-staff-email`). */
export function supportCard(): string {
  return `
  <h2>${esc(SUPPORT_USER.teamName)}</h2>
  <div class="users">
    <form method="post" action="/demo/sign-in" class="user">
      <input type="hidden" name="userId" value="${esc(SUPPORT_USER.id)}">
      <button type="submit" data-staff-email="${esc(SUPPORT_USER.email)}" data-role="support">
        <span class="avatar">SR</span>
        <span class="user-main"><strong>${esc(SUPPORT_USER.name)}</strong><span class="muted">${esc(SUPPORT_USER.email)}</span></span>
        <span class="role role-support">support</span>
        <span class="note">Sees every team's exports, retries and force-expires them</span>
      </button>
    </form>
  </div>`;
}

/**
 * The operator's side of the sample: the help desk's support agent lists the exports of every
 * team with their audit trail, retries a failed one and force-expires a ready one. It is the
 * host's page, over `ExportAdminService`; the library exposes nothing of it over HTTP. Only the
 * demo support user may open it (a real app checks its staff authorization here).
 */
@Controller('admin/exports')
export class AdminController {
  constructor(private readonly admin: ExportAdminService) {}

  @Get()
  async page(@Req() req: DemoRequest, @Res() res: Response, @Query('cursor') cursor?: string, @Query('notice') notice?: string): Promise<void> {
    if (!req.user) return res.redirect(302, '/demo/sign-in');
    if (!isSupport(req.user)) {
      res.status(403).type('html').send(layout('Admin', '<section class="card"><h1>Admin</h1><p class="notice err">Only the help desk\'s support staff can open this page.</p></section>', req.user));
      return;
    }
    let body: string;
    try {
      const page = await this.admin.list({ limit: 25, ...(typeof cursor === 'string' && cursor ? { cursor } : {}) });
      const rows = await Promise.all(page.items.map(async (item) => this.row(item, await this.admin.history({ exportId: item.id }))));
      body = `
<section class="card">
  <h1>Exports of every team</h1>
  <p class="lead">Newest first. Each export shows its audit trail: who asked, when it was ready, every download with its address. The jobs themselves are on the <a href="${QUEUE_BOARD_PATH}" data-link="queue-board">queue board</a>.</p>
  ${notice ? `<p class="notice ok" role="status">${esc(notice)}</p>` : ''}
  <table class="admin-exports">
    <thead><tr><th>Team</th><th>Export</th><th>Status</th><th>Requested</th><th>History</th><th></th></tr></thead>
    <tbody>${rows.join('') || '<tr><td colspan="6" class="muted">No export yet.</td></tr>'}</tbody>
  </table>
  ${page.nextCursor ? `<p><a href="/admin/exports?cursor=${encodeURIComponent(page.nextCursor)}">Older exports →</a></p>` : ''}
</section>`;
    } catch (err) {
      body = `<section class="card"><h1>Exports of every team</h1><p class="notice err">${esc(err instanceof ExportException ? err.message : 'The exports could not be listed.')}</p></section>`;
    }
    res.type('html').send(layout('Admin: exports', body, req.user));
  }

  @Post(':id/retry')
  retry(@Req() req: DemoRequest, @Res() res: Response, @Param('id') id: string): Promise<void> {
    return this.act(req, res, () => this.admin.retry(id, SUPPORT_USER.id), 'The export was queued again.');
  }

  @Post(':id/force-expire')
  forceExpire(@Req() req: DemoRequest, @Res() res: Response, @Param('id') id: string, @Body() body: { reason?: unknown }): Promise<void> {
    const reason = typeof body?.reason === 'string' ? body.reason : undefined;
    return this.act(req, res, () => this.admin.forceExpire(id, SUPPORT_USER.id, reason), 'The export was expired and its file deleted.');
  }

  private async act(req: DemoRequest, res: Response, action: () => Promise<unknown>, done: string): Promise<void> {
    if (!isSupport(req.user)) {
      res.status(403).type('html').send(layout('Admin', '<section class="card"><p class="notice err">Only support staff can do this.</p></section>', req.user));
      return;
    }
    let notice = done;
    try {
      await action();
    } catch (err) {
      notice = err instanceof ExportException ? err.message : 'That did not work. Try again.';
    }
    res.redirect(303, `/admin/exports?notice=${encodeURIComponent(notice)}`);
  }

  private row(item: ExportAdminItem, history: ExportAuditRecord[]): string {
    const what = item.kind === 'personal' ? `Personal data of ${esc(item.subject?.userId ?? '')}` : 'Whole team';
    const trail = history
      .map((h) => {
        const extra = [h.actor !== 'system' ? `by ${h.actor}` : '', h.ip ? `from ${h.ip}` : '', typeof h.detail?.reason === 'string' ? `“${h.detail.reason}”` : '']
          .filter(Boolean)
          .join(' ');
        return `<li data-type="${esc(h.type)}"><time datetime="${esc(h.at)}">${esc(h.at.slice(0, 16).replace('T', ' '))}</time> ${esc(EVENT_LABELS[h.type] ?? h.type)} <span class="muted">${esc(extra)}</span></li>`;
      })
      .join('');
    const actions = [
      item.status === 'failed'
        ? `<form method="post" action="/admin/exports/${esc(item.id)}/retry"><button type="submit" class="btn" data-action="retry">Retry</button></form>`
        : '',
      item.status === 'completed'
        ? `<form method="post" action="/admin/exports/${esc(item.id)}/force-expire"><input type="hidden" name="reason" value="Expired by support"><button type="submit" class="btn danger" data-action="force-expire">Force-expire</button></form>`
        : '',
    ].join('');
    return `
    <tr data-export-id="${esc(item.id)}" data-account="${esc(item.accountId)}" data-status="${esc(item.status)}">
      <td>${esc(item.accountId)}</td>
      <td>${what}<br><span class="muted">${esc(item.format)}</span></td>
      <td><span class="status status-${esc(item.status)}">${esc(item.status)}</span></td>
      <td>${esc(item.createdAt.slice(0, 16).replace('T', ' '))}<br><span class="muted">by ${esc(item.requestedBy)}</span></td>
      <td><details><summary>${history.length} events</summary><ol class="trail">${trail}</ol></details></td>
      <td>${actions}</td>
    </tr>`;
  }
}
