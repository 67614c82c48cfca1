// Profile → "Download my data" and Settings → Team members → "Export this member's data":
// plain browser JavaScript, no build step. Both ask the library for a personal export
// (POST /exports { kind: 'personal' }, with userId on a member's behalf) and follow it with
// GET /exports/:id until it is ready.
'use strict';

(function () {
  const ACTIVE = ['pending', 'confirmed', 'processing'];
  const page = document.querySelector('[data-page]');
  if (!page) return;
  const me = page.getAttribute('data-user-id');

  const api = window.sampleApi;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  /** Reads the export until it leaves the active states. */
  async function follow(id, onChange) {
    for (;;) {
      const res = await api('GET', '/exports/' + encodeURIComponent(id));
      if (!res.ok) return null;
      onChange(res.data);
      if (!ACTIVE.includes(res.data.status)) return res.data;
      await sleep(500);
    }
  }

  /** What a refusal means, in the product's words. */
  function refusal(res, whose) {
    const code = res.data && res.data.code;
    if (code === 'EXPORT_ALREADY_ACTIVE') return 'An export of ' + whose + ' data is already in progress or ready to download.';
    if (code === 'EXPORT_COOLDOWN') return 'One export a day: a new export of ' + whose + ' data can start on ' + when(res.data.availableAt) + '.';
    if (code === 'EXPORT_FORBIDDEN') return 'Only team owners and admins can export a member\'s data.';
    if (code === 'EXPORT_NOT_FOUND') return 'This person is not a member of the team.';
    return 'The export could not be started. Please try again in a moment.';
  }

  // ---------- Profile: Download my data ----------
  if (page.getAttribute('data-page') === 'profile') {
    const button = document.getElementById('download-my-data');
    const link = document.getElementById('my-download');
    const notice = document.getElementById('my-notice');
    const say = (kind, text) => {
      notice.className = 'notice ' + kind;
      notice.textContent = text;
      notice.hidden = false;
    };
    const show = (view) => {
      page.setAttribute('data-status', view.status);
      if (view.status === 'pending') say('', 'Check your email: confirm the request to start the export.');
      else if (ACTIVE.includes(view.status)) say('', 'Packaging your data… ' + (view.progress.percent || 0) + '%');
      else if (view.status === 'completed' && view.downloadUrl) {
        say('ok', 'Your data is ready. The link works until ' + when(view.expiresAt) + '.');
        link.href = view.downloadUrl;
        link.hidden = false;
      } else if (view.status === 'failed') say('err', 'The export could not be completed. Please request it again.');
    };
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const res = await api('POST', '/exports', { kind: 'personal' });
        if (res.status !== 202) return say('warn', refusal(res, 'your'));
        show(res.data);
        await follow(res.data.id, show);
      } finally {
        button.disabled = false;
      }
    });
    // The latest export of my data, if one is under way or ready.
    api('GET', '/exports').then(async (res) => {
      const mine = res.ok ? res.data.filter((v) => v.kind === 'personal' && v.subject && v.subject.userId === me) : [];
      const latest = mine[0];
      if (latest && (ACTIVE.includes(latest.status) || latest.downloadUrl)) {
        show(latest);
        if (ACTIVE.includes(latest.status)) await follow(latest.id, show);
      }
      document.body.setAttribute('data-ready', 'true');
    });
  }

  // ---------- Team members: Export this member's data ----------
  if (page.getAttribute('data-page') === 'team') {
    const rows = [...page.querySelectorAll('tr[data-member-id]')];
    const status = (row, text, state) => {
      const cell = row.querySelector('.member-status');
      cell.textContent = text;
      row.setAttribute('data-export-status', state);
    };
    const show = (row, view) => {
      const name = row.getAttribute('data-member-name');
      if (view.status === 'pending') status(row, 'Confirm the request from your email to start it.', 'pending');
      else if (ACTIVE.includes(view.status)) status(row, 'Exporting… ' + (view.progress.percent || 0) + '%', 'active');
      else if (view.status === 'completed') {
        // The download link went to the member, not to you.
        const sent = view.notifiedUserId === row.getAttribute('data-member-id');
        status(row, sent ? 'Sent to ' + name + ' by email' : 'Ready', 'sent');
      } else if (view.status === 'failed') status(row, 'The export failed. Try again.', 'failed');
      else status(row, '', view.status);
    };
    for (const row of rows) {
      row.querySelector('.export-member').addEventListener('click', async (event) => {
        const button = event.currentTarget;
        const userId = row.getAttribute('data-member-id');
        button.disabled = true;
        try {
          const res = await api('POST', '/exports', { kind: 'personal', userId });
          if (res.status !== 202) return status(row, refusal(res, row.getAttribute('data-member-name') + '\u2019s'), 'refused');
          show(row, res.data);
          await follow(res.data.id, (view) => show(row, view));
        } finally {
          button.disabled = false;
        }
      });
    }
    // What I already asked for: the latest export on each member's behalf.
    api('GET', '/exports').then((res) => {
      const asked = res.ok ? res.data.filter((v) => v.kind === 'personal' && v.requestedBy === me && v.subject) : [];
      for (const row of rows) {
        const latest = asked.find((v) => v.subject.userId === row.getAttribute('data-member-id'));
        if (latest) show(row, latest);
      }
      document.body.setAttribute('data-ready', 'true');
    });
  }
})();
