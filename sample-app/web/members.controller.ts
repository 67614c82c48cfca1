import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { ExportRegistry } from 'nestjs-data-export';
import { Member } from '../entities';
import { SAMPLE_SETTINGS, SampleSettings } from '../sample.settings';
import { DemoRequest } from './demo-auth';
import { esc, layout } from './html';
import { categoryLabel } from './labels';

/**
 * The member-facing pages: Profile, where every member (any role) downloads the data about
 * themselves, and Settings → Team members, where owners and admins export a member's data on
 * their behalf (the member gets the download link by email). Both talk to the library's
 * endpoints: `POST /exports { kind: 'personal' }` and `{ kind: 'personal', userId }`.
 */
@Controller()
export class MembersController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: ExportRegistry,
    @Inject(SAMPLE_SETTINGS) private readonly settings: SampleSettings,
  ) {}

  @Get('profile')
  profile(@Req() req: DemoRequest, @Res() res: Response): void {
    const u = req.user;
    if (!u) return res.redirect(302, '/demo/sign-in');
    const personal = this.registry.getCategories().filter((c) => c.personal);
    const body = `
<section class="card" data-page="profile" data-user-id="${esc(u.userId)}">
  <h1>Your profile</h1>
  <dl class="facts">
    <dt>Name</dt><dd>${esc(u.name)}</dd>
    <dt>Email</dt><dd>${esc(u.email)}</dd>
    <dt>Role</dt><dd><span class="role role-${esc(u.role)}">${esc(u.role)}</span></dd>
    <dt>Team</dt><dd>${esc(u.teamName)}</dd>
  </dl>
</section>
<section class="card" id="my-data">
  <h2>Download my data</h2>
  <p class="lead">Get a copy of the data about you in ${esc(u.teamName)}: a ZIP of machine-readable JSON files. It holds only what is about you, not the rest of the team's data.</p>
  <ul class="personal-categories">
    ${personal.map((c) => `<li>${esc(categoryLabel(c.name))}</li>`).join('')}
  </ul>
  <div id="my-notice" class="notice" role="status" hidden></div>
  <div class="actions">
    <button class="primary" id="download-my-data" type="button">Download my data</button>
    <a class="button" id="my-download" hidden download>Download the ZIP</a>
  </div>
  <p class="hint">We also email you the link when the file is ready${this.settings.confirm ? ', after you confirm the request from the email we send' : ''}. The link works for 24 hours.</p>
</section>
<script src="/assets/api.js"></script><script src="/assets/members.js"></script>`;
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(layout('Profile', body, u));
  }

  @Get('settings/team')
  async team(@Req() req: DemoRequest, @Res() res: Response): Promise<void> {
    const u = req.user;
    if (!u) return res.redirect(302, '/demo/sign-in');
    const members = await this.dataSource.getRepository(Member).find({ where: { teamId: u.accountId }, order: { name: 'ASC' } });
    const manages = this.settings.allowedRoles.includes(u.role);
    const body = `
<section class="card" data-page="team" data-user-id="${esc(u.userId)}">
  <h1>Team members</h1>
  <p class="lead">Everyone in ${esc(u.teamName)}.${manages ? " If a member can no longer sign in, export their data for them: they get the download link by email, and the archive holds only the data about them." : ''}</p>
  ${manages ? '' : '<p class="notice">Only team owners and admins can export a member\'s data. You can download your own from your <a href="/profile">profile</a>.</p>'}
  <div id="team-notice" class="notice" role="status" hidden></div>
  <table class="members">
    <thead><tr><th>Name</th><th>Email</th><th>Role</th><th></th></tr></thead>
    <tbody>
      ${members
        .map(
          (m) => `
      <tr data-member-id="${esc(m.id)}" data-member-name="${esc(m.name)}">
        <td data-label="Name">${esc(m.name)}</td>
        <td data-label="Email">${esc(m.email)}</td>
        <td data-label="Role"><span class="role role-${esc(m.role)}">${esc(m.role)}</span></td>
        <td>${
          manages ? `<div class="member-actions"><button type="button" class="export-member">Export this member's data</button><span class="member-status muted" role="status"></span></div>` : ''
        }</td>
      </tr>`,
        )
        .join('')}
    </tbody>
  </table>
</section>
${manages ? '<script src="/assets/api.js"></script><script src="/assets/members.js"></script>' : ''}`;
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(layout('Team members', body, u));
  }
}
