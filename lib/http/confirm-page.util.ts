/** Escapes text for HTML. @internal */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The page a confirmation link opens: a GET must not change state (mail scanners follow links),
 * so it shows a button that POSTs the same URL.
 * @internal
 */
export function confirmPage(action: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Confirm your data export</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#2563eb;color:#fff;cursor:pointer}</style>
</head><body><h1>Confirm your data export</h1>
<p>Confirm to start building the export of your account data. We will send a download link when it is ready.</p>
<form method="post" action="${escapeHtml(action)}"><button type="submit">Confirm export</button></form>
<p><small>If you did not ask for an export, ignore this page: nothing happens without confirmation.</small></p>
</body></html>`;
}

/** The page shown after the confirmation form was posted. @internal */
export function confirmedPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Export confirmed</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2937}</style>
</head><body><h1>Export confirmed</h1><p>Your export is being prepared. We will send a download link when it is ready.</p></body></html>`;
}
