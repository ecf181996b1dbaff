// shared.js: a share link's read-only view of a dashboard, a live search or a snapshot.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, clear, api, fmtTime, timePicker, readState, writeState, timeChart, recordNode, dashboardView } = bt;

  async function sharedPage() {
    const root = $('#shared');
    const token = root.dataset.token;
    const base = '/api/v1/shared/' + encodeURIComponent(token);
    let s;
    try { s = await api(base); } catch (e) {
      $('#panels').append(h('p', { class: 'error-box', text: e.message }));
      return;
    }
    $('#shared-title').textContent = s.title;
    document.title = s.title + ' · blocktorch';
    const meta = [];
    if (s.frozen) meta.push('Time range fixed: ' + fmtTime(Date.parse(s.from)) + ' → ' + fmtTime(Date.parse(s.to)));
    if (s.expires) meta.push('Link expires ' + fmtTime(Date.parse(s.expires)));
    $('#shared-meta').textContent = meta.join(' · ');
    if (s.kind === 'dashboard') {
      dashboardView(s.dashboard, {
        links: false, frozen: s.frozen ? { from: s.from, to: s.to } : null,
        panelURL: (p, from, to) => base + '/panels/' + encodeURIComponent(p.id) + '?' + new URLSearchParams({ from, to }).toString(),
      });
      if (s.frozen) clear($('#timepicker'));
      return;
    }
    $('#shared-search').hidden = false;
    if (s.kind === 'snapshot') {
      const snap = s.snapshot;
      $('#shared-query').textContent = snap.query + ' · snapshot taken ' + fmtTime(Date.parse(snap.taken));
      drawHist(snap.histogram);
      const res = $('#results');
      if (!snap.records.length) res.append(h('p', { class: 'empty', text: 'The search found nothing.' }));
      for (const r of snap.records) res.append(recordNode(r, false, { links: false }));
      if (snap.truncated) res.append(h('p', { class: 'dim', text: 'The snapshot holds the newest ' + snap.records.length + ' records.' }));
      return;
    }
    $('#shared-query').textContent = s.query;
    const defaults = { from: s.from || 'now-1h', to: s.to || 'now' };
    let st = s.frozen ? defaults : readState(defaults);
    let cursor = '';
    const more = $('#more');
    async function load(append) {
      const p = new URLSearchParams({ from: st.from, to: st.to });
      if (append && cursor) p.set('cursor', cursor);
      const d = await api(base + '/search?' + p.toString());
      const res = $('#results');
      if (!append) clear(res);
      for (const r of d.records || []) res.append(recordNode(r, false, { links: false }));
      if (!append && !(d.records || []).length) res.append(h('p', { class: 'empty', text: 'No records in this range.' }));
      cursor = d.nextCursor || '';
      more.hidden = !cursor;
    }
    async function all() {
      if (!s.frozen) timePicker($('#timepicker'), st.from, st.to, (f, t) => { st = { from: f, to: t }; writeState(st, defaults); all(); });
      const hist = await api(base + '/histogram?' + new URLSearchParams({ from: st.from, to: st.to }).toString());
      drawHist(hist.buckets);
      await load(false);
    }
    more.addEventListener('click', () => load(true));
    all().catch((e) => $('#results').append(h('p', { class: 'error-box', text: e.message })));
  }

  function drawHist(buckets) {
    const el = $('#histogram');
    if (!buckets || !buckets.length) { clear(el).append(h('div', { class: 'msg', text: 'Nothing in this range' })); return; }
    const times = buckets.map((b) => Date.parse(b.start));
    const iv = times.length > 1 ? times[1] - times[0] : 60000;
    timeChart(el, { times, intervalMs: iv, series: [{ name: 'count', values: buckets.map((b) => b.count) }] }, { type: 'bar', key: 'histogram', legend: false });
  }

  bt.onPage('shared', sharedPage, { charts: true });
})();
