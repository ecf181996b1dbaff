// explore.js: the Explore page: query, histogram, facets, results and live tail.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, clear, api, fmtNum, parseTime, iso, exploreURL, timePicker, readState, writeState, splitPipes, quote, addTerm, byteToChar, named, addrRe, timeChart, resultTable, recordNode } = bt;

  const facetFields = ['level', 'kind', 'service', 'contract', 'event', 'revertReason'];

  function explorePage() {
    const defaults = { q: '', from: 'now-1h', to: 'now', live: '' };
    let st = readState(defaults);
    const qIn = $('#q'), errBox = $('#query-error'), results = $('#results'), more = $('#more');
    let cursor = '', tail = null, seq = 0;

    qIn.value = st.q;
    const grow = () => { qIn.style.height = 'auto'; qIn.style.height = Math.min(200, qIn.scrollHeight + 2) + 'px'; };
    qIn.addEventListener('input', grow);
    qIn.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); submit(); } });
    $('#query-form').addEventListener('submit', (e) => { e.preventDefault(); submit(); });
    $('#help-toggle').addEventListener('click', (e) => {
      const help = $('#help');
      help.hidden = !help.hidden;
      e.currentTarget.setAttribute('aria-expanded', String(!help.hidden));
    });
    const live = $('#live');
    live.checked = st.live === '1';
    live.addEventListener('change', () => { st.live = live.checked ? '1' : ''; writeState(st, defaults); startTail(); });
    const save = $('#save-search');
    if (save) save.addEventListener('click', async () => {
      const name = prompt('Name of the saved search', st.q || 'All records');
      if (!name) return;
      try {
        await api('/api/v1/searches', { json: { name, query: st.q || '*', from: st.from, to: st.to } });
        save.textContent = 'Saved ✓';
        setTimeout(() => { save.textContent = 'Save search'; }, 2000);
      } catch (e) { showError(e); }
    });
    // Open incident: the incidents page's form, filled from this search
    // and its range made absolute (a relative range would move on).
    const openInc = $('#open-incident');
    function incidentLink() {
      if (!openInc) return;
      const now = Date.now();
      const p = new URLSearchParams({ q: st.q || '*' });
      const a = parseTime(st.from, now), b = parseTime(st.to, now);
      if (a != null && !isNaN(a)) p.set('from', iso(a));
      if (b != null && !isNaN(b)) p.set('to', iso(b));
      openInc.href = '/incidents?' + p.toString();
    }
    if (openInc) openInc.addEventListener('click', incidentLink);
    // Add to incident: this search, its range made absolute, on the
    // timeline of the newest open incident (the button shows only when
    // one is open).
    const linkInc = $('#link-incident');
    if (linkInc) {
      api('/api/v1/incidents?open=1&limit=1').then((l) => {
        if (!l || !l.length) return;
        const inc = l[0];
        linkInc.hidden = false;
        linkInc.dataset.incident = inc.id;
        linkInc.textContent = 'Add to incident #' + inc.id;
        linkInc.title = 'Link this search on the timeline of “' + inc.title + '”';
        linkInc.addEventListener('click', async () => {
          const now = Date.now();
          const a = parseTime(st.from, now), b = parseTime(st.to, now);
          const url = exploreURL(st.q || '*', a != null && !isNaN(a) ? a : null, b != null && !isNaN(b) ? b : null);
          try {
            await api('/api/v1/incidents/' + inc.id + '/links', { json: { kind: 'search', text: st.q || '*', url } });
            linkInc.textContent = 'Added to incident #' + inc.id + ' ✓';
          } catch (e) { showError(e); }
        });
      }).catch(() => {});
    }
    window.addEventListener('popstate', () => { st = readState(defaults); qIn.value = st.q; live.checked = st.live === '1'; run(); });

    function submit() { st.q = qIn.value.trim(); writeState(st, defaults); run(); }
    function setRange(from, to) { st.from = from; st.to = to; writeState(st, defaults); run(); }

    function showError(e) {
      errBox.hidden = false;
      if (e.body && e.body.errorKind === 'bad_query') {
        errBox.textContent = e.body.error + '\n' + (e.body.caret || '');
        const i = byteToChar(qIn.value, e.body.position || 0);
        qIn.focus();
        qIn.setSelectionRange(i, Math.min(qIn.value.length, i + 1));
      } else {
        errBox.textContent = e.message;
      }
    }

    function params(extra) {
      const p = new URLSearchParams({ q: st.q || '*' });
      if (st.from) p.set('from', st.from);
      if (st.to) p.set('to', st.to);
      for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
      return p.toString();
    }

    async function run() {
      const my = ++seq;
      errBox.hidden = true;
      timePicker($('#timepicker'), st.from, st.to, setRange);
      incidentLink();
      grow();
      const [, pipes] = splitPipes(st.q);
      results.setAttribute('aria-busy', 'true');
      histogram(my);
      facets(my);
      try {
        if (pipes) await runTable(my); else await runRecords(my, false);
      } catch (e) {
        if (my === seq) { showError(e); clear(results); $('#results-meta').textContent = ''; }
      }
      results.removeAttribute('aria-busy');
      startTail();
    }

    async function runRecords(my, append) {
      const d = await api('/api/v1/search?' + params(append && cursor ? { cursor, limit: 100 } : { limit: 100 }));
      if (my !== seq) return;
      if (!append) clear(results);
      $('#results-title').textContent = 'Records';
      if (!append && !(d.records || []).length) results.append(h('p', { class: 'empty', text: 'No records match in this range. Widen the range or loosen the query.' }));
      for (const r of d.records || []) results.append(recordNode(r));
      cursor = d.nextCursor || '';
      more.hidden = !cursor;
      $('#results-meta').textContent = results.querySelectorAll('.rec').length + ' shown · ' + d.tookMs.toFixed(1) + ' ms';
    }

    async function runTable(my) {
      const d = await api('/api/v1/chart?' + params());
      if (my !== seq) return;
      clear(results);
      more.hidden = true;
      $('#results-title').textContent = 'Result';
      $('#results-meta').textContent = d.rows.length + ' rows · ' + d.tookMs.toFixed(1) + ' ms · ' + d.query;
      const link = (q, a, b) => exploreURL(q, a, b);
      if (d.kind === 'time' && d.series.length) {
        const box = h('div', { class: 'chart' });
        box.style.height = '260px';
        results.append(box);
        timeChart(box, d, {
          type: d.series.length > 1 ? 'stacked' : 'bar', key: 'explore-result',
          link: (si, bi) => link(d.series[si].query, d.times[bi], d.times[bi] + d.intervalMs),
          legendLink: (si) => link(d.series[si].query, d.from ? Date.parse(d.from) : null, d.to ? Date.parse(d.to) : null),
          onSelect: (a, b) => setRange(iso(a), iso(b)),
        });
      }
      const tbl = h('div', {});
      results.append(tbl);
      resultTable(tbl, d, (i) => (d.kind === 'time' ? null : link(d.rowQueries[i], st.from, st.to)));
    }

    more.addEventListener('click', () => runRecords(seq, true).catch(showError));

    async function histogram(my) {
      const el = $('#histogram');
      try {
        const d = await api('/api/v1/search/histogram?' + params({ buckets: 60 }));
        if (my !== seq) return;
        const b = d.buckets;
        $('#hist-title').textContent = 'Matches over time · ' + fmtNum(b.reduce((a, x) => a + x.count, 0));
        if (!b.length) { clear(el).append(h('div', { class: 'msg', text: 'Nothing in this range' })); return; }
        const times = b.map((x) => Date.parse(x.start));
        const iv = b.length > 1 ? times[1] - times[0] : Math.max(1000, (parseTime(st.to, Date.now()) || Date.now()) - times[0]);
        const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].filter((l) => b.some((x) => x.byLevel && x.byLevel[l]));
        const res = { times, intervalMs: iv, series: levels.map((l) => ({ name: l, values: b.map((x) => (x.byLevel && x.byLevel[l]) || 0) })) };
        if (!levels.length) res.series = [{ name: 'count', values: b.map((x) => x.count) }];
        timeChart(el, res, {
          type: 'stacked', key: 'histogram',
          // A click zooms to the bucket; a drag to the buckets dragged over.
          link: (si, bi) => { setRange(iso(times[bi]), iso(times[bi] + iv)); return null; },
          onSelect: (a, b2) => setRange(iso(a), iso(b2)),
        });
      } catch (e) {
        if (my === seq) clear(el);
      }
    }

    async function facets(my) {
      const box = $('#facets');
      const [filter] = splitPipes(st.q);
      const base = filter || '*';
      const cards = facetFields.map((f) => {
        const card = h('div', { class: 'facet', 'data-field': f }, h('h3', { text: f }));
        return [f, card];
      });
      clear(box).append(...cards.map(([, c]) => c));
      await Promise.all(cards.map(async ([f, card]) => {
        try {
          const p = new URLSearchParams({ q: base + ' | top 8 ' + f });
          if (st.from) p.set('from', st.from);
          if (st.to) p.set('to', st.to);
          const d = await api('/api/v1/search?' + p.toString());
          if (my !== seq) return;
          const rows = (d.table && d.table.rows) || [];
          if (!rows.length) { card.remove(); return; }
          const max = Math.max(...rows.map((r) => r[1]));
          for (const [v, n] of rows) {
            const bar = h('div', { class: 'bar' });
            bar.style.width = (100 * n / max).toFixed(1) + '%';
            const term = f + ':' + quote(v);
            const label = h('span', { class: 'name', title: String(v), text: String(v) });
            if (typeof v === 'string' && addrRe.test(v)) named(label, v);
            card.append(h('div', { class: 'facet-row' },
              label,
              h('span', { class: 'count', text: fmtNum(n) }),
              h('button', { type: 'button', class: 'ghost', title: 'Only ' + term, 'aria-label': 'Include ' + term, text: '+', onclick: () => { qIn.value = addTerm(st.q, term); submit(); } }),
              h('button', { type: 'button', class: 'ghost', title: 'Exclude ' + term, 'aria-label': 'Exclude ' + term, text: '−', onclick: () => { qIn.value = addTerm(st.q, '-' + term); submit(); } }),
              bar));
          }
        } catch (e) { card.remove(); }
      }));
    }

    function startTail() {
      if (tail) { tail.close(); tail = null; }
      const [filter, pipes] = splitPipes(st.q);
      if (st.live !== '1' || pipes) return;
      tail = new EventSource('/api/v1/tail?' + new URLSearchParams({ q: filter || '*' }).toString());
      tail.addEventListener('record', (ev) => {
        let r;
        try { r = JSON.parse(ev.data); } catch (e) { return; }
        const empty = results.querySelector('.empty');
        if (empty) empty.remove();
        results.insertBefore(recordNode(r, true), results.firstChild);
        const all = results.querySelectorAll('.rec');
        for (let i = 500; i < all.length; i++) all[i].remove();
      });
    }

    run();
  }

  bt.onPage('explore', explorePage, { charts: true });
})();
