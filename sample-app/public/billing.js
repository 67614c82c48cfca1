// Settings → Billing: "Export My Data" through the library's instant download
// (GET /exports/instant): the archive streams into the browser at once. Where an instant download
// is not possible (the team's data is too large, or instant downloads are off because exports are
// confirmed by email), it requests a queued export (POST /exports) instead: billing never blocks
// an export. Plain browser JavaScript.
'use strict';

(function () {
  const button = document.getElementById('instant-export');
  const status = document.getElementById('instant-status');
  const say = (state, text, code) => {
    status.dataset.state = state;
    status.dataset.code = code || '';
    status.textContent = text;
  };
  const size = (n) => (n < 1024 * 1024 ? (n / 1024).toFixed(1) + ' KB' : (n / 1024 / 1024).toFixed(1) + ' MB');
  /** The file name the server gave (`Content-Disposition: attachment; filename="…"`). */
  const fileName = (res) => {
    const match = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
    return match ? match[1] : 'data-export.zip';
  };

  /** A queued export instead of the instant one, followed on Settings → Data Export. */
  async function queued(why) {
    const res = await fetch('/exports', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{}' });
    const body = await res.json().catch(() => ({}));
    const follow = ' Follow it on Settings → Data Export.';
    if (res.status === 202) {
      const text = body.status === 'pending' ? 'Check your email to confirm the export: we sent you a link.' : "We're packaging your data now and will email you when it is ready.";
      return say('queued', (why === 'EXPORT_TOO_LARGE_FOR_INSTANT' ? 'Your data is too large to download at once. ' : '') + text + follow, why);
    }
    if (body.code === 'EXPORT_ALREADY_ACTIVE') return say('refused', 'You already have an export in progress or ready to download.' + follow, body.code);
    if (body.code === 'EXPORT_COOLDOWN') return say('refused', 'There is a 24-hour pause after each completed export.' + follow, body.code);
    return say('failed', 'The export could not be requested. Nothing was saved; please try again in a minute.', body.code || 'HTTP_' + res.status);
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    say('working', 'Preparing your archive…');
    try {
      const res = await fetch('/exports/instant?format=zip', { credentials: 'same-origin', headers: { Accept: 'application/zip, application/json' } });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        if (res.status === 401) return void (location.href = '/demo/sign-in');
        if (body.code === 'EXPORT_FORBIDDEN') return say('refused', 'Only team owners and admins can export data. Ask an owner or admin.', body.code);
        if (body.code === 'EXPORT_TOO_LARGE_FOR_INSTANT' || body.code === 'EXPORT_INSTANT_DISABLED') return queued(body.code);
        if (body.code === 'EXPORT_INSTANT_RATE_LIMITED') return say('refused', 'An export just started. Please try again in ' + (body.retryAfterSeconds || 30) + ' seconds.', body.code);
        return say('failed', 'The export could not be prepared. Nothing was saved; please try again in a minute.', body.code || 'HTTP_' + res.status);
      }
      // Reading the whole body fails if the server cut the download: a short file is never offered.
      const blob = await res.blob();
      const name = fileName(res);
      const url = URL.createObjectURL(blob);
      const link = Object.assign(document.createElement('a'), { href: url, download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      say('done', 'Downloaded ' + name + ' (' + size(blob.size) + ').');
    } catch (e) {
      say('failed', 'The download was interrupted. Nothing was saved; please try again.', 'ABORTED');
    } finally {
      button.disabled = false;
    }
  });
  document.body.dataset.ready = 'true';
})();
