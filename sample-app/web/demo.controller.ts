import { Body, Controller, Get, Inject, NotFoundException, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ExportRegistry } from 'nestjs-data-export';
import { Member } from '../entities';
import { Outbox } from '../mail/outbox';
import { demoUsers } from '../seed/seed';
import { SAMPLE_SETTINGS, SampleSettings } from '../sample.settings';
import { DemoRequest, signIn, signOut, SUPPORT_USER } from './demo-auth';
import { supportCard } from './admin.controller';
import { esc, layout, linkify } from './html';
import { categoryLabel, fieldLabel } from './labels';

export const PUBLIC_DIR = join(__dirname, '..', 'public');

const ROLE_NOTES: Record<string, string> = {
  owner: 'Can request, download and delete exports',
  admin: 'Can request, download and delete exports',
  agent: 'Cannot export: only owners and admins can',
};

/**
 * The sample's own pages: demo sign-in, the Settings → Data Export page, the outbox, and two
 * small JSON endpoints the page uses. The export endpoints themselves (`/exports…`) are the
 * library's built-in controller.
 */
@Controller()
export class DemoController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: ExportRegistry,
    private readonly outbox: Outbox,
    @Inject(SAMPLE_SETTINGS) private readonly settings: SampleSettings,
  ) {}

  @Get()
  home(@Req() req: DemoRequest, @Res() res: Response): void {
    res.redirect(302, req.user ? '/settings/data-export' : '/demo/sign-in');
  }

  @Get('demo/sign-in')
  async signInPage(@Req() req: DemoRequest, @Res() res: Response): Promise<void> {
    const users = await demoUsers(this.dataSource);
    const teams = [...new Set(users.map((u) => u.teamName))];
    const body = `
<section class="card">
  <h1>Sign in to the Helpdesk sample</h1>
  <p class="lead">Pick a seeded user. This is a <strong>demo sign-in</strong>: no password, the choice is kept in a cookie and trusted as it is. A real app puts its own authentication here and sets <code>req.user</code>.</p>
  ${teams
    .map(
      (team) => `
  <h2>${esc(team)}</h2>
  <div class="users">
    ${users
      .filter((u) => u.teamName === team)
      .map(
        (u) => `
    <form method="post" action="/demo/sign-in" class="user">
      <input type="hidden" name="userId" value="${esc(u.id)}">
      <button type="submit" data-user-email="${esc(u.email)}" data-role="${esc(u.role)}">
        <span class="avatar">${esc(initials(u.name))}</span>
        <span class="user-main"><strong>${esc(u.name)}</strong><span class="muted">${esc(u.email)}</span></span>
        <span class="role role-${esc(u.role)}">${esc(u.role)}</span>
        <span class="note">${esc(ROLE_NOTES[u.role] ?? '')}</span>
      </button>
    </form>`,
      )
      .join('')}
  </div>`,
    )
    .join('')}
  ${supportCard()}
  ${users.length === 0 ? '<p class="notice warn">No users yet: the database is empty. Restart the sample (it seeds an empty database).</p>' : ''}
  <p class="muted">Emails the sample sends (confirmation and download links) land in the <a href="/demo/outbox">outbox</a>.</p>
</section>`;
    res.type('html').send(layout('Sign in', body, req.user));
  }

  @Post('demo/sign-in')
  async signIn(@Body() body: { userId?: unknown }, @Res() res: Response): Promise<void> {
    const id = typeof body?.userId === 'string' ? body.userId : '';
    if (id === SUPPORT_USER.id) {
      signIn(res, id);
      return res.redirect(303, '/admin/exports');
    }
    const member = id ? await this.dataSource.getRepository(Member).findOneBy({ id }) : null;
    if (!member) throw new NotFoundException('No such demo user.');
    signIn(res, member.id);
    res.redirect(303, '/settings/data-export');
  }

  @Post('demo/sign-out')
  signOut(@Res() res: Response): void {
    signOut(res);
    res.redirect(303, '/demo/sign-in');
  }

  /** The signed-in demo user, for the export page. */
  @Get('demo/me')
  async me(@Req() req: DemoRequest) {
    const u = req.user;
    if (!u) throw new UnauthorizedException('Not signed in.');
    const members = await this.dataSource.getRepository(Member).find({ where: { teamId: u.accountId }, select: { id: true, name: true } });
    return {
      userId: u.userId,
      name: u.name,
      email: u.email,
      role: u.role,
      teamId: u.accountId,
      teamName: u.teamName,
      canExport: this.settings.allowedRoles.includes(u.role),
      confirmationRequired: this.settings.confirm,
      /** Names for the history's "By" column. */
      members: Object.fromEntries(members.map((m) => [m.id, m.name])),
    };
  }

  /**
   * What an export can include: the library's registry, in archive order, with the product's
   * words for each category and for the fields left out or partly hidden.
   */
  @Get('demo/categories')
  categories() {
    return this.registry.getCategories().map((c) => ({
      name: c.name,
      label: categoryLabel(c.name),
      description: c.description ?? null,
      filterable: c.filterable,
      excluded: c.omitted.map((o) => ({ key: o.key, label: fieldLabel(o.key) })),
      masked: c.fields.filter((f) => f.mask).map((f) => ({ key: f.key, label: fieldLabel(f.key) })),
    }));
  }

  @Get('settings/data-export')
  exportPage(@Req() req: DemoRequest, @Res() res: Response): void {
    if (!req.user) return res.redirect(302, '/demo/sign-in');
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(readFileSync(join(PUBLIC_DIR, 'data-export.html'), 'utf8'));
  }

  @Get('demo/outbox.json')
  outboxJson() {
    return this.outbox.list();
  }

  @Post('demo/outbox/clear')
  clearOutbox(@Res() res: Response): void {
    this.outbox.clear();
    res.redirect(303, '/demo/outbox');
  }

  @Get('demo/outbox')
  outboxPage(@Req() req: DemoRequest, @Res() res: Response): void {
    const mails = this.outbox.list();
    const body = `
<section class="card">
  <div class="row-between">
    <h1>Outbox</h1>
    <form method="post" action="/demo/outbox/clear"><button class="secondary" type="submit">Clear</button></form>
  </div>
  <p class="lead">Every email the sample sends goes through nodemailer with a JSON transport and lands here instead of a mail server, so you can follow the confirmation and download links. Newest first.</p>
  ${mails.length === 0 ? '<p class="notice">No emails yet. Request an export from <a href="/settings/data-export">Settings → Data Export</a>.</p>' : ''}
  ${mails
    .map(
      (m) => `
  <article class="mail" data-kind="${esc(m.kind)}" data-export-id="${esc(m.exportId)}">
    <header>
      <strong class="subject">${esc(m.subject)}</strong>
      <span class="muted">To ${esc(m.to)} · ${esc(new Date(m.sentAt).toUTCString())}</span>
    </header>
    <div class="mail-body">${m.text.split('\n\n').map((p) => `<p>${linkify(p)}</p>`).join('')}</div>
  </article>`,
    )
    .join('')}
</section>`;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(layout('Outbox', body, req.user));
  }
}

function initials(name: string): string {
  return name
    .split(' ')
    .map((p) => p[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();
}
