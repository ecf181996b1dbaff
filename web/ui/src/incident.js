// incident.js: an incident's page, drawn from GET /api/v1/incidents/{id}
// (the incident with its scope, timeline and postmortem): status buttons,
// the scope of impact against a day earlier, the timeline with a link to
// where each entry came from, notes and updates (public, notify), links,
// the users' banner, the kill switches card and the postmortem editor.
// Everything from the API is text people or the chain wrote: it reaches
// the page through textContent and attributes only, and a link is set only
// when it is a path on this server or an http(s) URL.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { $, h, clear, api, fmtTime, fmtNum, killSwitches } = bt;

  // The moves the server allows from each status (incident.allowed).
  const moves = {
    investigating: ['identified', 'mitigated', 'resolved'],
    identified: ['investigating', 'mitigated', 'resolved'],
    mitigated: ['investigating', 'identified', 'resolved'],
    resolved: ['investigating'],
  };

  function errorText(e) { return e && e.message ? e.message : String(e); }
  function safeLink(l) {
    if (!l) return '';
    if (l.startsWith('/') && !l.startsWith('//') && !l.startsWith('/\\')) return l;
    try {
      const u = new URL(l);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
    } catch (e) { return ''; }
  }
  function show(el, e) { el.hidden = !e; el.textContent = e ? errorText(e) : ''; }

  bt.onPage('incident', () => {
    const root = $('#incident');
    const id = root.dataset.id;
    const base = '/api/v1/incidents/' + id;
    let rep = null;

    function drawHead(inc) {
      $('#incident-title').textContent = inc.title;
      document.title = inc.title + ' · blocktorch';
      const sev = $('#incident-severity');
      sev.textContent = inc.severity; sev.className = 'sev sev-' + inc.severity;
      const st = $('#incident-status');
      st.textContent = inc.status; st.className = 'tag status-' + inc.status;
      const meta = ['#' + inc.id, 'opened ' + fmtTime(Date.parse(inc.started)) + (inc.source === 'hand' ? '' : ' from ' + (inc.source === 'alert' ? 'the alert ' : 'the search ') + (inc.sourceRef || ''))];
      if (inc.owner) meta.push('owner ' + inc.owner);
      if (inc.contracts && inc.contracts.length) meta.push('contracts ' + inc.contracts.join(', '));
      if (inc.services && inc.services.length) meta.push('services ' + inc.services.join(', '));
      if (inc.public) meta.push('public as “' + (inc.publicTitle || 'Incident ' + inc.id) + '”');
      if (inc.resolved) meta.push('resolved ' + fmtTime(Date.parse(inc.resolved)));
      $('#incident-meta').textContent = meta.join(' · ');
      for (const b of document.querySelectorAll('#status-buttons button')) {
        const s = b.dataset.status;
        b.disabled = !(moves[inc.status] || []).includes(s);
        b.classList.toggle('on', s === inc.status);
      }
    }

    function drawScope(sc) {
      $('#scope-window').textContent = fmtTime(Date.parse(sc.from)) + ' → ' + (sc.live ? 'now (live)' : fmtTime(Date.parse(sc.to)));
      const tb = clear($('#scope tbody'));
      const amounts = (f) => (f.valueOut || []).map((t) => t.amount + ' of ' + t.token).join(', ') || '0';
      const errs = (f) => {
        const n = (f.errorLogs || []).reduce((a, c) => a + c.count, 0);
        return n + ((f.errorLogs || []).length ? ' (' + f.errorLogs.map((c) => c.service + ' ' + c.count).join(', ') + ')' : '');
      };
      const rows = [
        ['Failed transactions', (f) => fmtNum(f.failedTxs), 'failedTxs'],
        ['Distinct affected addresses', (f) => fmtNum(f.addresses), 'addresses'],
        ['Value moved out', amounts, 'valueOut'],
        ['Error logs', errs, 'errorLogs'],
      ];
      for (const [label, fn, key] of rows) {
        tb.append(h('tr', { 'data-figure': key }, h('th', { text: label }), h('td', { class: 'mono now', text: fn(sc.now) }), h('td', { class: 'mono dim', text: fn(sc.dayBefore) })));
      }
    }

    // drawFailedTxs lists the window's failed transactions (to the
    // incident's contracts, when it names addresses) with a Debug and a
    // Re-simulate link each: the step before trying a fix.
    async function drawFailedTxs(inc, sc) {
      let card = $('#failed-txs');
      if (!card) {
        card = h('section', { class: 'card', id: 'failed-txs' }, h('h2', { text: 'Failed transactions' }), h('div', { class: 'list' }));
        $('#scope-card').after(card);
      }
      const addrs = (inc.contracts || []).filter((c) => bt.addrRe.test(c));
      const lists = await Promise.all((addrs.length ? addrs : ['']).map((a) => api('/api/v1/txs?' + new URLSearchParams(Object.assign({ status: 'failed', limit: 50 }, a ? { address: a } : {})).toString())));
      const from = Date.parse(sc.from), to = sc.live ? Infinity : Date.parse(sc.to);
      const txs = lists.flat().filter((t) => Date.parse(t.time) >= from && Date.parse(t.time) <= to).slice(0, 10);
      const list = clear(card.querySelector('.list'));
      if (!txs.length) { list.append(h('p', { class: 'empty', text: 'No failed transaction in the incident window.' })); return; }
      for (const t of txs) {
        list.append(h('div', { class: 'row failed-tx' }, h('a', { class: 'mono', href: '/tx/' + t.hash, text: t.hash.slice(0, 18) + '…' }),
          h('span', { class: 'dim small', text: (t.call && t.call.method) || t.selector || '' }), h('span', { class: 'spacer' }),
          h('a', { class: 'button ghost small', href: '/debug/' + t.hash, text: 'Debug' }),
          h('a', { class: 'button ghost small resim', href: '/simulate?tx=' + t.hash, text: 'Re-simulate' })));
      }
    }

    function drawTimeline(tl) {
      const ol = clear($('#timeline'));
      if (!tl.length) { ol.append(h('li', { class: 'empty', text: 'Nothing yet.' })); return; }
      for (const e of tl) {
        const link = safeLink(e.link);
        ol.append(h('li', { class: 'entry kind-' + e.kind, 'data-kind': e.kind },
          h('span', { class: 'small dim nowrap', title: e.time, text: fmtTime(Date.parse(e.time)) }), ' ',
          h('span', { class: 'tag', text: e.kind }), ' ',
          h('span', { class: 'pre-line', text: e.text }),
          e.author ? h('span', { class: 'small dim', text: ' — ' + e.author }) : null,
          e.public ? h('span', { class: 'tag', text: 'public' }) : null,
          e.notify ? h('span', { class: 'tag', text: 'notified' }) : null,
          link ? h('a', { href: link, class: 'small entry-link', text: ' source' }) : null));
      }
    }

    function actionRow(a) {
      return h('div', { class: 'row action-item' },
        h('input', { type: 'checkbox', name: 'done', checked: !!a.done, 'aria-label': 'Done' }),
        h('input', { name: 'text', class: 'grow', value: a.text || '', placeholder: 'what to do', 'aria-label': 'Action item' }),
        h('input', { name: 'owner', value: a.owner || '', placeholder: 'owner', 'aria-label': 'Owner', size: 14 }),
        h('button', { type: 'button', class: 'small ghost danger', text: 'Remove', onclick: (e) => e.target.closest('.action-item').remove() }));
    }

    function drawPostmortem(pm, since) {
      const f = $('#postmortem-form');
      f.rootCause.value = pm.rootCause || '';
      f.lessons.value = pm.lessons || '';
      const items = clear($('#action-items'));
      for (const a of pm.actionItems || []) items.append(actionRow(a));
      const rv = clear($('#review'));
      for (const c of pm.review || []) {
        rv.append(h('label', { class: 'toggle review-item' }, h('input', { type: 'checkbox', checked: !!c.done, 'data-text': c.text }), c.text));
      }
      $('#monitors-since').textContent = since && since.length ? 'Monitors added or changed since the incident started: ' + since.join(', ') : 'No monitor added or changed since the incident started.';
    }

    async function load(withPostmortem) {
      rep = await api(base);
      drawHead(rep.incident);
      drawScope(rep.scope);
      drawFailedTxs(rep.incident, rep.scope).catch(() => {});
      drawTimeline(rep.timeline || []);
      if (withPostmortem) drawPostmortem(rep.postmortem, rep.monitorsSince);
    }

    for (const b of document.querySelectorAll('#status-buttons button')) {
      b.addEventListener('click', async () => {
        const err = $('#status-error');
        show(err, null);
        try {
          const res = await api(base + '/status', { json: { status: b.dataset.status, message: $('#status-message').value, public: $('#status-public').checked } });
          $('#status-message').value = '';
          if (res.warning) show(err, res.warning);
          await load(false);
        } catch (e) { show(err, e); }
      });
    }

    $('#note-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target, err = $('#note-error');
      show(err, null);
      try {
        const res = await api(base + '/notes', { json: { text: f.text.value, public: f.public.checked, notify: f.notify.checked } });
        f.text.value = ''; f.public.checked = false; f.notify.checked = false;
        if (res.warning) show(err, res.warning);
        await load(false);
      } catch (ex) { show(err, ex); }
    });

    $('#link-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target, err = $('#link-error');
      show(err, null);
      try {
        await api(base + '/links', { json: { kind: f.kind.value, url: f.url.value.trim(), text: f.text.value.trim() } });
        f.url.value = ''; f.text.value = '';
        await load(false);
      } catch (ex) { show(err, ex); }
    });

    $('#banner-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const err = $('#banner-error');
      show(err, null);
      try { await api(base + '/banner', { method: 'PUT', json: { text: e.target.text.value } }); await load(false); } catch (ex) { show(err, ex); }
    });
    $('#banner-clear').addEventListener('click', async () => {
      const err = $('#banner-error');
      show(err, null);
      try { await api(base + '/banner', { method: 'DELETE' }); $('#banner-form').text.value = ''; await load(false); } catch (ex) { show(err, ex); }
    });

    $('#public-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const err = $('#public-error');
      show(err, null);
      try {
        await api(base, { method: 'PATCH', json: { public: e.target.public.checked, publicTitle: e.target.publicTitle.value.trim() } });
        await load(false);
      } catch (ex) { show(err, ex); }
    });

    $('#add-action').addEventListener('click', () => $('#action-items').append(actionRow({})));
    $('#postmortem-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target, out = $('#postmortem-result');
      const pm = {
        rootCause: f.rootCause.value, lessons: f.lessons.value,
        actionItems: [...document.querySelectorAll('#action-items .action-item')].map((r) => ({
          text: r.querySelector('[name=text]').value, owner: r.querySelector('[name=owner]').value, done: r.querySelector('[name=done]').checked })),
        review: [...document.querySelectorAll('#review input')].map((c) => ({ text: c.dataset.text, done: c.checked })),
      };
      try {
        const saved = await api(base + '/postmortem', { method: 'PUT', json: pm });
        drawPostmortem(saved, rep && rep.monitorsSince);
        out.className = 'small ok'; out.textContent = 'Saved.';
      } catch (ex) { out.className = 'small bad'; out.textContent = errorText(ex); }
    });

    killSwitches(() => load(false).catch(() => {}));
    load(true).then(() => bt.respondPanel && bt.respondPanel($('#scope-card'), rep.incident.contracts, () => load(false).catch(() => {}))).catch((e) => show($('#status-error'), e));
  });
})();
