import type { ExportConfirmationPageState } from '../options/export-module-options.interface';

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
