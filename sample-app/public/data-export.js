// Settings → Data Export: plain browser JavaScript, no build step.
// Talks to the library's built-in endpoints (POST/GET/DELETE /exports, GET /exports/eligibility,
// GET /exports/:id/events, GET /exports/estimate) and to two small sample endpoints (/demo/me, /demo/categories).
// The form shows the rules before the click: GET /exports/eligibility says whether a request
// would be accepted, and why not; the page asks again after every change.
'use strict';

(function () {
  const ACTIVE = ['pending', 'confirmed', 'processing'];
  const STATUS_LABEL = {
    pending: 'Awaiting confirmation',
    confirmed: 'Queued',
    processing: 'Processing',
    completed: 'Ready to download',
    expired: 'Expired',
    failed: 'Failed',
    cancelled: 'Cancelled',
  };
  const $ = (id) => document.getElementById(id);
  const state = { me: null, categories: [], current: null, eligibility: null, source: null, countdown: null, rulesTimer: null, noticeUntil: null, events: 0 };

  // ---------- helpers ----------
  const api = window.sampleApi;
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }
  const fmtDate = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');
  const fmtNum = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');
  function fmtBytes(n) {
    if (typeof n !== 'number') return '—';
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }
  function fmtDuration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h > 0) return h + ' h ' + String(m).padStart(2, '0') + ' min';
    if (m > 0) return m + ' min ' + String(s).padStart(2, '0') + ' s';
    return s + ' s';
  }
  const total = (counts) => (counts ? Object.values(counts).reduce((a, b) => a + b, 0) : null);
  const who = (userId) => (state.me && userId === state.me.userId ? 'You' : (state.me && state.me.members[userId]) || userId);

  // ---------- notices (what just happened, and the API's refusals, in people's words) ----------
  /**
   * Shows one notice. `code` is for the page's own bookkeeping (and tests), never shown.
   * `until(view)` says whether the notice still holds for the current export: once it returns
   * false (the export moved on), the notice goes.
   */
  function notice(kind, title, text, code, until) {
    const box = $('notice');
    clearInterval(state.countdown);
    box.hidden = false;
    box.className = 'notice ' + kind;
    box.dataset.code = code || '';
    state.noticeUntil = until || null;
    box.replaceChildren(el('strong', { text: title }), el('span', { id: 'notice-text' }, text));
    box.scrollIntoView({ block: 'nearest' });
  }
  function clearNotice() {
    clearInterval(state.countdown);
    state.noticeUntil = null;
    $('notice').hidden = true;
    $('notice').dataset.code = '';
  }
  const roleName = () => (/^[aeiou]/.test(state.me.role) ? 'an ' : 'a ') + state.me.role;
  const nextTime = (iso) => {
    const at = new Date(iso);
    return `${fmtDate(iso)} (in ${fmtDuration((at.getTime() - Date.now()) / 1000)})`;
  };
  /** The refusal of a request, in people's words (the page normally says it before the click). */
  function refusal(res) {
    const body = res.data || {};
    switch (body.code) {
      case 'EXPORT_FORBIDDEN':
        return notice('err', 'Only team owners and admins can export data', `You're signed in as ${state.me.name}, ${roleName()} of ${state.me.teamName}. Ask an owner or admin to export.`, body.code);
      case 'EXPORT_ALREADY_ACTIVE':
        return notice('warn', 'You already have an export in progress or ready to download', 'One export at a time: download the one you have (or delete it), then request a new one.', body.code);
      case 'EXPORT_COOLDOWN': {
        const at = body.availableAt || new Date(Date.now() + (body.retryAfterSeconds || 0) * 1000).toISOString();
        return notice('warn', 'Please wait before requesting another export', `There is a 24-hour pause after each completed export. You can request a new one on ${nextTime(at)}.`, body.code);
      }
      case 'EXPORT_EMAIL_REQUIRED':
        return notice('err', 'We need your email address first', 'We send a confirmation link before an export starts, and your account has no email address. Add one to your profile, then request the export.', body.code);
      case 'EXPORT_INVALID_REQUEST':
        return notice('err', 'Please check your request', 'Some of the choices above are not valid. Check the data types and the dates, then try again.', body.code);
      case 'EXPORT_QUEUE_UNAVAILABLE':
        return notice('err', 'Exports are temporarily unavailable', 'Nothing was saved. Please try again in a minute.', body.code);
      default:
        return notice('err', 'Something went wrong', 'Nothing was saved. Please try again in a minute.', body.code || 'HTTP_' + res.status);
    }
  }

  // ---------- the rules, before the click (GET /exports/eligibility) ----------
  /** Why a request would be refused now, in people's words, with the next allowed time. */
  function rulesOf(e) {
    const current = state.current && state.current.id === e.activeExportId ? state.current : null;
    switch (e.reason) {
      case 'EXPORT_FORBIDDEN':
        return {
          kind: 'role',
          title: 'Only team owners and admins can export data',
          text: `You're signed in as ${state.me.name}, ${roleName()} of ${state.me.teamName}. This keeps sensitive business information from being downloaded by anyone on the team. Ask an owner or admin to export.`,
        };
      case 'EXPORT_ALREADY_ACTIVE': {
        const status = current ? current.status : null;
        const then = e.nextAllowedAt ? ` You can request a new one on ${nextTime(e.nextAllowedAt)}, when its download window ends.` : '';
        if (status === 'completed') return { kind: 'active', title: 'Your export is ready to download', text: 'One export at a time: download the one above, or delete it.' + then };
        if (status === 'pending') return { kind: 'active', title: 'Your export is waiting for your confirmation', text: 'One export at a time: confirm the one above (or cancel it) before requesting another.' };
        return { kind: 'active', title: "We're packaging your current export", text: 'One export at a time: you can request another once this one is done.' + then };
      }
      case 'EXPORT_COOLDOWN':
        return {
          kind: 'cooldown',
          title: 'Please wait before requesting another export',
          text: 'There is a 24-hour pause after each completed export.' + (e.nextAllowedAt ? ` You can request a new one on ${nextTime(e.nextAllowedAt)}.` : ''),
        };
      case 'EXPORT_EMAIL_REQUIRED':
        return { kind: 'email', title: 'We need your email address first', text: 'We send a confirmation link before an export starts, and your account has no email address. Add one to your profile, then come back.' };
      default:
        return { kind: 'other', title: 'Exports are not available right now', text: 'Please come back later.' };
    }
  }
  function renderEligibility(e) {
    state.eligibility = e;
    clearInterval(state.rulesTimer);
    const card = $('request-card');
    const box = $('rules');
    const blocked = e && !e.canRequest;
    for (const fieldset of card.querySelectorAll('fieldset.request-form')) fieldset.disabled = blocked;
    if (!blocked) {
      card.dataset.blocked = '';
      box.hidden = true;
      syncRequestButton();
      return;
    }
    const rules = rulesOf(e);
    card.dataset.blocked = rules.kind;
    box.hidden = false;
    box.className = 'rules rules-' + rules.kind;
    const draw = () => box.replaceChildren(el('strong', { text: rules.title }), el('span', { id: 'rules-text' }, rulesOf(e).text));
    draw();
    if (e.nextAllowedAt) {
      // Counts down, and asks again once the time has come.
      state.rulesTimer = setInterval(() => (Date.parse(e.nextAllowedAt) <= Date.now() ? load() : draw()), 15_000);
    }
    syncRequestButton();
  }

  // ---------- categories ----------
  function renderCategories() {
    const rows = state.categories.map((c) =>
      el(
        'tr',
        {},
        el('td', {}, el('input', { type: 'checkbox', class: 'category', id: 'cat-' + c.name, value: c.name, checked: true, onchange: syncRequestButton })),
        el('td', {}, el('label', { for: 'cat-' + c.name, text: labelOf(c.name) })),
        el(
          'td',
          {},
          c.description || '',
          c.excluded.length ? el('span', { class: 'excluded', text: 'Never exported: ' + c.excluded.map((f) => f.label).join(', ') }) : null,
          c.masked.length ? el('span', { class: 'excluded', text: 'Partly hidden: ' + c.masked.map((f) => f.label).join(', ') }) : null,
        ),
      ),
    );
    $('categories').replaceChildren(...rows);
    syncRequestButton();
  }
  /** The product's name of a category (from /demo/categories). */
  function labelOf(name) {
    const category = state.categories.find((c) => c.name === name);
    return category ? category.label : name;
  }
  function selectedCategories() {
    return [...document.querySelectorAll('input.category:checked')].map((i) => i.value);
  }
  function syncRequestButton() {
    const picked = selectedCategories();
    const all = picked.length === state.categories.length;
    $('all-categories').checked = all;
    $('all-categories').indeterminate = picked.length > 0 && !all;
    const blocked = !!state.eligibility && !state.eligibility.canRequest;
    $('request').disabled = blocked || picked.length === 0;
    $('request-hint').textContent = blocked ? '' : picked.length === 0 ? 'Pick at least one data type.' : all ? 'Everything, as a ZIP of JSON files.' : picked.length + ' of ' + state.categories.length + ' data types.';
    refreshEstimate();
  }

  // ---------- the estimate (GET /exports/estimate: counts and size before the click) ----------
  /** The filters of the form, as the request sends them. */
  function formFilters() {
    const body = {};
    const picked = selectedCategories();
    if (picked.length !== state.categories.length) body.categories = picked;
    const since = $('since').value;
    const until = $('until').value;
    if (since) body.since = since + 'T00:00:00.000Z';
    if (until) body.until = new Date(Date.parse(until + 'T00:00:00.000Z') + 86400000).toISOString(); // "To" is inclusive
    return body;
  }
  /** Asks for the estimate of the form's choices (the last answer wins), a moment after a change. */
  function refreshEstimate() {
    clearTimeout(state.estimateTimer);
    state.estimateTimer = setTimeout(async () => {
      const filters = formFilters();
      const box = $('estimate');
      if (filters.categories && filters.categories.length === 0) {
        box.textContent = '';
        box.dataset.rows = '';
        return;
      }
      const query = new URLSearchParams();
      if (filters.categories) query.set('categories', filters.categories.join(','));
      if (filters.since) query.set('since', filters.since);
      if (filters.until) query.set('until', filters.until);
      const asked = (state.estimateAsked = (state.estimateAsked || 0) + 1);
      const res = await api('GET', '/exports/estimate' + (query.toString() ? '?' + query : ''));
      if (asked !== state.estimateAsked) return;
      if (!res.ok) {
        box.textContent = '';
        box.dataset.rows = '';
        return;
      }
      const e = res.data;
      box.dataset.rows = String(e.rows);
      box.textContent = (e.exact ? '' : 'About ') + fmtNum(e.rows) + ' records · about ' + fmtBytes(e.bytes) + ' to download';
    }, 150);
  }

  // ---------- the current export ----------
  /** Why an expired export ended, when the view says: deleted early by a member, never confirmed… */
  const END_LABEL = { deleted: 'Deleted', unconfirmed: 'Not confirmed', 'archive-missing': 'File unavailable' };
  const isDeleted = (view) => !!view.deletedAt || view.reason === 'deleted';
  const statusLabel = (view) => (isDeleted(view) ? 'Deleted' : END_LABEL[view.reason] || STATUS_LABEL[view.status] || view.status);
  function renderCurrent(view) {
    state.current = view;
    // A notice about an export that has moved on ("We're packaging your data" once it is ready) goes.
    if (state.noticeUntil && !state.noticeUntil(view)) clearNotice();
    const card = $('current');
    if (!view) {
      card.hidden = true;
      card.dataset.status = '';
      return;
    }
    card.hidden = false;
    card.dataset.status = view.status;
    card.dataset.exportId = view.id;
    card.dataset.events = String(state.events);
    $('current-status').className = 'badge ' + view.status;
    $('current-status').textContent = STATUS_LABEL[view.status] || view.status;
    $('current-id').textContent = 'Export ' + view.id.slice(0, 8);

    const percent = view.status === 'completed' ? 100 : view.progress.percent || 0;
    $('progress').setAttribute('aria-valuenow', String(percent));
    $('progress').querySelector('.bar').style.width = percent + '%';
    let text;
    if (view.status === 'processing') {
      text = `${percent}% · ${fmtNum(view.progress.rowsDone)}${view.progress.rowsEstimated ? ' of ~' + fmtNum(view.progress.rowsEstimated) : ''} records${view.progress.category ? ' · now: ' + labelOf(view.progress.category) : ''}`;
    } else if (view.status === 'confirmed') {
      text = 'Queued — it starts in a moment.';
    } else if (view.status === 'pending') {
      text = `Check your inbox: we sent a confirmation link to ${state.me.email}. The export starts once you confirm (the link is valid for 24 hours).`;
    } else if (view.status === 'completed') {
      text = `Done: ${fmtNum(total(view.counts))} records in ${Object.keys(view.counts || {}).length} files, ${fmtBytes(view.size)}.`;
    } else if (view.status === 'failed') {
      text = 'Something went wrong while packaging your data. Please request a new export; a failed export does not start the cooldown.';
    } else {
      text = STATUS_LABEL[view.status] || view.status;
    }
    $('progress-text').textContent = text;

    const facts = [
      ['Requested', fmtDate(view.createdAt) + ' by ' + who(view.requestedBy)],
      ['Includes', view.filters && view.filters.categories ? view.filters.categories.map(labelOf).join(', ') : 'Everything'],
    ];
    if (view.filters && (view.filters.since || view.filters.until)) {
      facts.push(['Date range', (view.filters.since ? view.filters.since.slice(0, 10) : 'beginning') + ' → ' + (view.filters.until ? new Date(Date.parse(view.filters.until) - 1).toISOString().slice(0, 10) : 'today')]);
    }
    if (view.status === 'completed' && view.expiresAt) {
      facts.push(['Available until', fmtDate(view.expiresAt) + ' (then permanently deleted)']);
    }
    if (view.downloadCount) facts.push(['Downloads', String(view.downloadCount)]);
    $('current-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));

    const actions = [];
    if (view.status === 'completed' && view.downloadUrl) {
      actions.push(el('a', { id: 'download', class: 'button primary', href: view.downloadUrl, download: '' }, '⬇ Download ZIP (' + fmtBytes(view.size) + ')'));
    }
    if (view.status === 'completed') {
      actions.push(el('button', { id: 'delete', class: 'danger', type: 'button', onclick: () => remove(view.id, 'Delete this export now? The file is removed at once; the 24-hour cooldown still applies.') }, 'Delete now'));
    } else if (ACTIVE.includes(view.status)) {
      actions.push(el('button', { id: 'cancel', class: 'danger', type: 'button', onclick: () => remove(view.id, 'Cancel this export?') }, 'Cancel export'));
    }
    if (view.status === 'pending') actions.push(el('a', { class: 'button', href: '/demo/outbox' }, 'Open the demo outbox'));
    $('current-actions').replaceChildren(...actions);
  }

  /** Follows an export live over Server-Sent Events: `progress` events, then one final `status`. */
  function follow(id) {
    if (state.source) state.source.close();
    const source = new EventSource('/exports/' + encodeURIComponent(id) + '/events');
    state.source = source;
    const onView = (e) => {
      state.events++;
      const view = JSON.parse(e.data);
      if (!state.current || state.current.id === view.id) renderCurrent(Object.assign({}, view, { downloadUrl: undefined }));
      return view;
    };
    source.addEventListener('progress', onView);
    source.addEventListener('status', (e) => {
      source.close();
      state.source = null;
      onView(e);
      load(); // the final read brings the signed download link
    });
    source.onerror = () => {
      // Closed by the server (or the network): re-read the state instead of retrying blindly.
      source.close();
      if (state.source === source) state.source = null;
      setTimeout(load, 1500);
    };
  }

  // ---------- history ----------
  function renderHistory(list) {
    const body = $('history').querySelector('tbody');
    if (list === null) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'Export history is visible to team owners and admins.' })));
      return;
    }
    if (list.length === 0) {
      body.replaceChildren(el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'No exports yet.' })));
      return;
    }
    body.replaceChildren(
      ...list.map((v) =>
        el(
          'tr',
          { 'data-export-id': v.id, 'data-status': v.status, 'data-deleted': isDeleted(v) ? 'true' : undefined },
          el('td', { 'data-label': 'Requested', text: fmtDate(v.createdAt) }),
          el('td', { 'data-label': 'By', text: who(v.requestedBy) }),
          el('td', { 'data-label': 'Status' }, el('span', { class: 'badge ' + (isDeleted(v) ? 'deleted' : v.status), text: statusLabel(v) })),
          el('td', { 'data-label': 'Records', text: fmtNum(total(v.counts)) }),
          el('td', { 'data-label': 'Size', text: fmtBytes(v.size) }),
          el(
            'td',
            { class: 'history-more' },
            v.downloadUrl
              ? el('a', { href: v.downloadUrl, download: '' }, 'Download')
              : isDeleted(v) && v.deletedAt
                ? el('span', { class: 'muted', text: 'Deleted ' + fmtDate(v.deletedAt) + (v.deletedBy ? ' by ' + who(v.deletedBy) : '') })
                : '',
          ),
        ),
      ),
    );
  }

  // ---------- actions ----------
  /** Reads the exports and the rules again; an older read that answers late is dropped. */
  async function load() {
    const seq = (state.loads = (state.loads || 0) + 1);
    const [res, eligibility] = await Promise.all([api('GET', '/exports'), api('GET', '/exports/eligibility')]);
    if (seq !== state.loads) return;
    // This page is the team's export: a member's own exports are on their Profile page.
    if (!res.ok || !state.me.canExport) {
      renderHistory(null);
      renderCurrent(null);
    } else {
      res.data = res.data.filter((v) => v.kind !== 'personal');
      renderHistory(res.data);
      const current = res.data.find((v) => ACTIVE.includes(v.status) || (v.status === 'completed' && v.downloadUrl));
      renderCurrent(current || null);
      if (current && ACTIVE.includes(current.status) && !state.source) follow(current.id);
    }
    // Without an answer the form stays open, and a refusal shows after the click.
    renderEligibility(eligibility.ok ? eligibility.data : null);
  }

  async function request() {
    clearNotice();
    const body = formFilters();
    $('request').disabled = true;
    try {
      const res = await api('POST', '/exports', body);
      if (res.status === 202) {
        const view = res.data;
        const pending = view.status === 'pending';
        notice(
          'ok',
          pending ? 'Check your email to confirm the export' : 'Export requested',
          pending
            ? 'We sent a confirmation link to ' + state.me.email + '. Nothing is exported until you confirm.'
            : "We're packaging your data now. You can stay on this page to follow the progress, or come back later: we'll email you when it's ready.",
          'REQUESTED',
          // Holds while the export is where this notice says it is.
          (current) => !!current && current.id === view.id && (pending ? current.status === 'pending' : current.status === 'confirmed' || current.status === 'processing'),
        );
        renderCurrent(view);
        follow(view.id);
        load();
      } else {
        refusal(res);
        load();
      }
    } finally {
      syncRequestButton();
    }
  }

  async function remove(id, question) {
    if (!window.confirm(question)) return;
    const res = await api('DELETE', '/exports/' + encodeURIComponent(id));
    if (res.ok) {
      const cancelled = res.data.status === 'cancelled';
      notice('ok', cancelled ? 'Export cancelled' : 'Export deleted', cancelled ? 'Nothing more will be exported.' : 'The file is permanently deleted.', 'DELETED');
      if (state.source) state.source.close();
      state.source = null;
      await load();
    } else {
      refusal(res);
    }
  }

  // ---------- start ----------
  async function start() {
    const me = await api('GET', '/demo/me');
    if (!me.ok) return;
    state.me = me.data;
    $('who').replaceChildren(me.data.name + ' · ', el('span', { class: 'role role-' + me.data.role, text: me.data.role }), ' · ' + me.data.teamName);
    const cats = await api('GET', '/demo/categories');
    state.categories = cats.ok ? cats.data : [];
    renderCategories();
    $('all-categories').addEventListener('change', (e) => {
      for (const box of document.querySelectorAll('input.category')) box.checked = e.target.checked;
      syncRequestButton();
    });
    $('clear-dates').addEventListener('click', () => {
      $('since').value = '';
      $('until').value = '';
      refreshEstimate();
    });
    $('since').addEventListener('change', refreshEstimate);
    $('until').addEventListener('change', refreshEstimate);
    $('request').addEventListener('click', request);
    await load();
    document.body.dataset.ready = 'true';
  }
  start();
})();
