import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Team } from '../entities';
import { DemoRequest } from './demo-auth';
import { esc, layout } from './html';

/**
 * Settings → Billing: the team's plan and billing state. A team whose payment failed is locked
 * (the rest of the help desk would be read-only), and its "Export My Data" button still works:
 * billing never blocks an export. The button uses the library's instant download
 * (`GET /exports/instant`, the `instant` option), so the archive downloads at once.
 */
@Controller('settings/billing')
export class BillingController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  async page(@Req() req: DemoRequest, @Res() res: Response): Promise<void> {
    if (!req.user) return res.redirect(302, '/demo/sign-in');
    const team = await this.dataSource.getRepository(Team).findOneByOrFail({ id: req.user.accountId });
    const locked = team.billingStatus === 'locked';
    const body = `
<section class="card billing${locked ? ' locked' : ''}" id="billing" data-status="${esc(team.billingStatus)}">
  <h1>Billing</h1>
  <p class="lead">${esc(team.name)} · ${esc(team.plan)} plan</p>
  ${
    locked
      ? `<div class="notice err" role="alert"><strong>Your account is locked</strong><span>The last payment failed. Tickets, chat and automations are paused until the invoice is paid. Your data is never held hostage: you can export it right now.</span></div>`
      : `<div class="notice ok" role="status"><strong>Your subscription is active</strong><span>The next invoice is due on the 1st of next month.</span></div>`
  }
  <h2>Export My Data</h2>
  <p class="muted">A complete copy of your team's data as a ZIP of JSON files, downloaded straight away. Owners and admins can export; billing never blocks an export.</p>
  <div class="actions">
    <button class="primary" id="instant-export" type="button">Export My Data</button>
    <span class="muted" id="instant-status" role="status" aria-live="polite"></span>
  </div>
  <form method="post" action="/settings/billing/demo-status" class="demo-tools">
    <input type="hidden" name="status" value="${locked ? 'active' : 'locked'}">
    <button type="submit" class="secondary" id="toggle-lock">${locked ? 'Demo: pay the invoice' : 'Demo: simulate a failed payment'}</button>
  </form>
</section>
<script src="/assets/billing.js"></script>`;
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(layout('Billing', body, req.user));
  }

  /** The demo's switch between a paid and a locked team. */
  @Post('demo-status')
  async demoStatus(@Req() req: DemoRequest, @Body() body: { status?: unknown }, @Res() res: Response): Promise<void> {
    if (!req.user) return res.redirect(302, '/demo/sign-in');
    const status = body?.status === 'locked' ? 'locked' : 'active';
    await this.dataSource.getRepository(Team).update({ id: req.user.accountId }, { billingStatus: status });
    res.redirect(303, '/settings/billing');
  }
}
