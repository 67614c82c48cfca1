import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createTransport, Transporter } from 'nodemailer';
import { ExportNotifier, ExportRequester, ExportView } from 'nestjs-data-export';
import { Member, Team } from '../entities';
import { esc } from '../web/html';
import { categoryLabel } from '../web/labels';
import { Outbox, OutboxMail } from './outbox';

const FROM = 'Helpdesk sample <no-reply@helpdesk-sample.example>';

/**
 * Sends the export emails through nodemailer. The transport is nodemailer's `jsonTransport`:
 * the message is composed for real (addresses, headers, text and HTML parts) and then, instead
 * of going to an SMTP server, lands in the demo outbox (`/demo/outbox`). In a real app, swap
 * the transport for SMTP or your provider's; nothing else changes.
 *
 * The links carry signed tokens: they go to the requester only and are never logged.
 */
@Injectable()
export class MailExportNotifier extends ExportNotifier {
  private readonly logger = new Logger('MailExportNotifier');
  private readonly transport: Transporter = createTransport({ jsonTransport: true });

  constructor(
    private readonly outbox: Outbox,
    private readonly dataSource: DataSource,
  ) {
    super();
  }

  async confirmationRequested(view: ExportView, url: string, requester: ExportRequester): Promise<void> {
    const { team, name } = await this.who(requester);
    const ttl = view.createdAt ? new Date(Date.parse(view.createdAt) + 24 * 3600_000) : null;
    await this.send('confirmation', view, requester, `Confirm your ${team} data export`, [
      `Hi ${name},`,
      `Someone — hopefully you — asked for a full export of the ${team} data. To start it, confirm here:`,
      { link: url, label: 'Confirm the export' },
      `This link expires in 24 hours${ttl ? ` (${ttl.toUTCString()})` : ''}. If it expires, request a new export from Settings → Data Export.`,
      "Didn't ask for this? Ignore this email: nothing is exported until the link is opened and confirmed.",
    ]);
  }

  async ready(view: ExportView, url: string, requester: ExportRequester): Promise<void> {
    const { team, name } = await this.who(requester);
    const counts = Object.entries(view.counts ?? {})
      .map(([category, n]) => `${categoryLabel(category)}: ${n.toLocaleString('en-US')}`)
      .join(' · ');
    // A personal export goes to the member it is about, also when an owner or admin asked for it.
    const personal = view.kind === 'personal';
    const askedBy = requester.requestedBy ? await this.dataSource.getRepository(Member).findOneBy({ id: requester.requestedBy }) : null;
    await this.send('ready', view, requester, personal ? `Your personal data from ${team} is ready` : `Your ${team} data export is ready`, [
      `Hi ${name},`,
      askedBy ? `${askedBy.name} (${askedBy.role} of ${team}) asked for a copy of the data about you on your behalf.` : '',
      `Your ${personal ? 'copy of the data about you' : 'export'} is ready to download${view.size !== null ? ` (${formatBytes(view.size)}, ZIP of NDJSON files)` : ''}.`,
      { link: url, label: 'Download your data' },
      `The link is valid for 24 hours${view.expiresAt ? `, until ${new Date(view.expiresAt).toUTCString()}` : ''}. After that the file is permanently deleted. While it is available, Settings → Data Export always has a fresh link.`,
      counts ? `What's inside: ${counts}.` : '',
      personal
        ? 'The archive holds personal data. Store it somewhere safe and delete it when you no longer need it.'
        : 'The archive contains your customers’ personal data. Store it somewhere safe, don’t share it publicly, and delete it when you no longer need it.',
    ]);
  }

  async failed(view: ExportView, requester: ExportRequester): Promise<void> {
    const { team, name } = await this.who(requester);
    await this.send('failed', view, requester, `Your ${team} data export could not be completed`, [
      `Hi ${name},`,
      'Something went wrong while we were packaging your data, and the export was stopped. Nothing was lost.',
      'Please request a new export from Settings → Data Export. A failed export does not start the 24-hour cooldown.',
    ]);
  }

  private async send(kind: OutboxMail['kind'], view: ExportView, requester: ExportRequester, subject: string, parts: (string | { link: string; label: string })[]): Promise<void> {
    if (!requester.email) {
      this.logger.warn(`Export ${view.id}: the requester has no email address; no ${kind} email sent`);
      return;
    }
    const kept = parts.filter((p) => p !== '');
    const text = kept.map((p) => (typeof p === 'string' ? p : `${p.label}: ${p.link}`)).join('\n\n') + '\n\n— The Helpdesk sample\n';
    const html = kept
      .map((p) => (typeof p === 'string' ? `<p>${esc(p)}</p>` : `<p><a class="button" href="${esc(p.link)}">${esc(p.label)}</a></p>`))
      .join('\n');
    const info = (await this.transport.sendMail({ from: FROM, to: requester.email, subject, text, html })) as { messageId: string; message: string };
    const composed = JSON.parse(info.message) as { subject: string; text: string; html: string };
    this.outbox.add({
      kind,
      exportId: view.id,
      messageId: info.messageId,
      from: FROM,
      to: requester.email,
      subject: composed.subject,
      text: composed.text,
      html: composed.html,
      sentAt: new Date().toISOString(),
    });
    this.logger.log(`Export ${view.id}: "${kind}" email to ${requester.email} is in the outbox (/demo/outbox)`);
  }

  private async who(requester: ExportRequester): Promise<{ team: string; name: string }> {
    const [team, member] = await Promise.all([
      this.dataSource.getRepository(Team).findOneBy({ id: requester.accountId }),
      this.dataSource.getRepository(Member).findOneBy({ id: requester.userId }),
    ]);
    return { team: team?.name ?? 'your team', name: member?.name.split(' ')[0] ?? 'there' };
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
