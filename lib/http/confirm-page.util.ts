import { HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ExportConfirmationPageState, ResolvedExportOptions } from '../options/export-module-options.interface';
import { requestUrl, sendHtml, takeResponse } from './http-adapter.util';

/** Escapes text for HTML. @internal */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What each state says. */
const TEXT: Record<ExportConfirmationPageState['state'], { title: string; body: string }> = {
  confirm: { title: 'Confirm your data export', body: 'Confirm to start building the export of your account data. We will send a download link when it is ready.' },
  confirmed: { title: 'Export confirmed', body: 'Your export is being prepared. We will send a download link when it is ready.' },
  completed: { title: 'Your export is ready', body: 'This export is already complete: the download link was sent by email. You can also download it from your account settings.' },
  unavailable: { title: 'This link is no longer valid', body: 'This export has ended or the link is not valid. You can request a new export from your account settings.' },
};

/**
 * The library's page for a confirmation link, in every state. A GET must not change state (mail
 * scanners follow links), so awaiting confirmation it shows a button that POSTs the same URL.
 * Every page links back to the host.
 * @internal
 */
export function defaultConfirmationPage(page: ExportConfirmationPageState): string {
  const { title, body } = TEXT[page.state];
  const form =
    page.state === 'confirm' && page.action
      ? `<form method="post" action="${escapeHtml(page.action)}"><button type="submit">Confirm export</button></form>
<p><small>If you did not ask for an export, ignore this page: nothing happens without confirmation.</small></p>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#2563eb;color:#fff;cursor:pointer}
a{color:#2563eb}</style>
</head><body><h1>${title}</h1>
<p>${body}</p>
${form}
<p><a href="${escapeHtml(page.returnUrl)}">Back to the app</a></p>
</body></html>`;
}

/**
 * A confirmation page: the `confirmation.page` option's HTML, a redirect to the host's page
 * it names, or the library's page; each with a way back to the app.
 * @internal
 */
export function sendConfirmationPage(options: Pick<ResolvedExportOptions, 'confirmation' | 'baseUrl'>, req: Request, res: Response, id: string, state: ExportConfirmationPageState['state']): void {
  const { page, returnUrl } = options.confirmation;
  const origin = new URL(options.baseUrl).origin;
  const action = state === 'confirm' ? requestUrl(req) : undefined;
  const raw = takeResponse(res);
  raw.setHeader('Cache-Control', 'no-store');
  raw.setHeader('Referrer-Policy', 'no-referrer');
  if (typeof page === 'string') {
    const target = new URL(page, origin);
    target.searchParams.set('exportId', id);
    target.searchParams.set('state', state);
    if (action) target.searchParams.set('confirmUrl', new URL(action, origin).toString());
    raw.statusCode = HttpStatus.SEE_OTHER;
    raw.setHeader('Location', target.toString());
    return void raw.end();
  }
  const render = page ?? defaultConfirmationPage;
  sendHtml(raw, HttpStatus.OK, render({ state, exportId: id, action, returnUrl: returnUrl ?? `${origin}/` }));
}
