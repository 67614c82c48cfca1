/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Escapes text and turns http(s) URLs in it into links. */
export function linkify(text: string): string {
  return esc(text).replace(/https?:\/\/[^\s<>"']+/g, (url) => `<a href="${url}">${url}</a>`);
}

export interface PageUser {
  name: string;
  role: string;
  teamName: string;
}

/** The demo banner that every page shows. */
export const DEMO_BANNER = `<div class="demo-banner" role="note"><strong>Demo sign-in — not real authentication.</strong> Anyone who can reach this server can act as any user. Do not expose it.</div>`;

/** The shell of the sample's server-rendered pages (the export page is a static file with the same look). */
export function layout(title: string, body: string, user?: PageUser | null): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Help desk sample</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/sample.css">
</head>
<body>
${DEMO_BANNER}
<header class="topbar">
  <a class="brand" href="/"><span class="logo" aria-hidden="true">H</span>Helpdesk<span class="tag">sample</span></a>
  <nav>
    <a href="/settings/data-export">Settings → Data Export</a>
    <a href="/settings/billing">Billing</a>
    <a href="/profile">Profile</a>
    <a href="/demo/outbox">Outbox</a>
    ${user?.role === 'support' ? '<a href="/admin/exports">Admin: exports</a>' : ''}
    <a href="/demo/sign-in">Switch user</a>
  </nav>
  <div class="who">${user ? `${esc(user.name)} · <span class="role role-${esc(user.role)}">${esc(user.role)}</span> · ${esc(user.teamName)}` : 'Not signed in'}</div>
</header>
<main>
${body}
</main>
</body>
</html>`;
}
