// panels.js: a dashboard's panels (charts, stats, tables, alerts) with their
// time picker and headlines, for the dashboard pages and shared dashboards.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, clear, api, fmtTime, fmtNum, parseTime, iso, exploreURL, timePicker, readState, writeState, withNames, timeChart, categoryBars, resultTable, partialBucket } = bt;

  // rateWindow is the span a rate headline averages over: from the first
  // bucket with data to the end of the last full bucket (or to now when
  // only the partial bucket has data), so that empty time before the data
  // and a bucket still filling do not drag the rate down. null: no data.
  function rateWindow(res, now) {
    const n = res.times.length, iv = res.intervalMs;
    const has = (j) => res.series.some((se) => (se.values[j] || 0) > 0);
    let first = 0;
    while (first < n && !has(first)) first++;
    if (first === n) return null;
    const partial = partialBucket(res, now);
    let last = partial >= 0 ? partial - 1 : n - 1;
    if (last < first) return { first, last: partial, from: res.times[first], to: now, partial: true };
    return { first, last, from: res.times[first], to: res.times[last] + iv, partial: false };
  }

  // summaryOf computes a panel's headline: {value, note}, note saying
  // which window a rate covers; null when the panel has none.
  function summaryOf(panel, res, now) {
    const s = panel.summary || '';
    if (!s || !res.series || !res.series.length) return null;
    const first = res.series[0].values.filter((v) => v != null);
    const total = first.reduce((a, b) => a + b, 0);
    // A total counts every series of a stack, not only the first.
    if (s === 'total') return { value: res.series.reduce((a, se) => a + se.values.reduce((x, v) => x + (v || 0), 0), 0) };
    if (s === 'max') return { value: first.length ? Math.max(...first) : 0 };
    if (s === 'last') return { value: first.length ? first[first.length - 1] : null };
    if (s === 'rate') {
      if (!res.times || !res.intervalMs) {
        const mins = (Date.parse(res.to) - Date.parse(res.from)) / 60000;
        return { value: mins > 0 ? total / mins : null };
      }
      const w = rateWindow(res, now);
      if (!w) return { value: 0, note: 'no data in this range' };
      let sum = 0;
      for (let j = w.first; j <= w.last; j++) sum += res.series[0].values[j] || 0;
      const mins = (w.to - w.from) / 60000;
      const span = fmtSpan(w.to - w.from);
      const note = w.partial ? 'over the ' + span + ' so far' : (w.first > 0 ? 'avg of the ' + span + ' with data' : 'avg of ' + span);
      return {
        value: mins > 0 ? sum / mins : null, note,
        title: 'Average rate ' + note + (!w.partial && partialBucket(res, now) >= 0 ? ', leaving out the bucket still filling' : ''),
      };
    }
    if (s.startsWith('ratio:')) {
      const name = s.slice(6);
      let all = 0, part = 0;
      for (const se of res.series) {
        const sum = se.values.reduce((a, b) => a + (b || 0), 0);
        all += sum;
        if (se.name === name) part += sum;
      }
      return { value: all > 0 ? (100 * part) / all : 0 };
    }
    return null;
  }

  // fmtSpan says a duration the way a headline reads it: 45s, 12m, 2h 5m.
  function fmtSpan(ms) {
    const m = Math.round(ms / 60000);
    if (m < 1) return Math.max(1, Math.round(ms / 1000)) + 's';
    if (m < 120) return m + 'm';
    const hh = Math.floor(m / 60), mm = m % 60;
    return hh + 'h' + (mm ? ' ' + mm + 'm' : '');
  }

  // renderPanel fetches and draws one panel. ctx: {range(), fetchURL(panel),
  // links (bool), onZoom(from, to)}
  async function renderPanel(panel, el, ctx) {
    const body = $('.panel-body', el);
    const sumEl = $('.summary', el);
    if (panel.type === 'alerts') return renderAlerts(body, ctx.links);
    try {
      const res = await api(ctx.fetchURL(panel));
      const fromMs = Date.parse(res.from), toMs = Date.parse(res.to);
      const link = (q, a, b) => (ctx.links ? exploreURL(q, a, b) : null);
      const sum = summaryOf(panel, res, Date.now());
      const sv = sum ? sum.value : null;
      if (sumEl) {
        clear(sumEl);
        sumEl.removeAttribute('title');
        if (sv != null) {
          sumEl.append(fmtNum(sv) + (panel.summary && panel.summary.startsWith('ratio:') ? '%' : ''));
          if (panel.unit && panel.unit !== '%') sumEl.append(h('span', { class: 'unit', text: panel.unit }));
        }
        if (sum && sum.note) {
          sumEl.append(h('span', { class: 'window', text: sum.note }));
          sumEl.title = sum.title || sum.note;
        }
      }
      if (panel.type === 'stat') {
        let v = sv;
        if (v == null && res.series.length && res.series[0].values.length) {
          v = res.kind === 'time' ? res.series[0].values.reduce((a, b) => a + (b || 0), 0) : res.series[0].values[0];
        }
        const q = res.rowQueries && res.rowQueries.length ? res.rowQueries[0] : res.filter;
        clear(body).append(h('div', { class: 'stat-value' }, h(ctx.links ? 'a' : 'span', { href: link(q || '*', fromMs, toMs), text: fmtNum(v) }),
          panel.unit ? h('span', { class: 'unit dim small', text: ' ' + panel.unit }) : null));
        return;
      }
      if (panel.type === 'table' || res.kind === 'table') {
        resultTable(body, res, (i) => link(res.rowQueries[i], fromMs, toMs));
        return;
      }
      if (res.kind === 'categories') {
        categoryBars(body, res, (i) => link(res.categoryQueries[i], fromMs, toMs));
        return;
      }
      if (!res.series.length) {
        clear(body).append(h('div', { class: 'msg', text: 'No data in this range' }));
        return;
      }
      timeChart(body, res, {
        type: panel.type, key: 'panel-' + panel.id,
        link: (si, bi) => link(res.series[si].query, res.times[bi], res.times[bi] + res.intervalMs),
        legendLink: (si) => link(res.series[si].query, fromMs, toMs),
        onSelect: ctx.onZoom,
      });
    } catch (e) {
      clear(body).append(h('div', { class: 'msg err', text: e.message }));
    }
  }

  // renderAlerts lists the newest alert transitions from /api/v1/alerts
  // (alert history, newest first), each linked to its monitor's history
  // and, when a transaction fired it, to the debugger.
  async function renderAlerts(body, operator) {
    clear(body);
    if (!operator) { body.append(h('div', { class: 'msg', text: 'Alerts are not part of shared views.' })); return; }
    try {
      const evs = await api('/api/v1/alerts?limit=8');
      if (!evs || !evs.length) {
        // One span inside the flex box: as direct flex items, the text's
        // trailing space would collapse against the link.
        body.append(h('div', { class: 'msg' }, h('span', {}, 'No alerts have fired. Quiet is good. ', h('a', { href: '/monitors', text: 'Monitors' }))));
        return;
      }
      body.append(h('div', { class: 'alert-list' }, evs.map((ev) => {
        const d = ev.detail || {};
        return h('div', { class: 'alert-item', 'data-id': ev.id },
          h('span', { class: 'status status-' + ev.status, text: ev.status }),
          h('a', { class: 'mono small', href: '/monitors?monitor=' + encodeURIComponent(ev.monitorId), text: ev.monitorId }),
          withNames(d.summary || '', h('span', { class: 'what small dim', title: d.summary || '' })),
          d.tx ? h('a', { class: 'small debug-link', href: '/debug/' + d.tx, text: 'tx' }) : null,
          h('span', { class: 'n small dim', text: fmtTime(Date.parse(ev.time)) }));
      })));
    } catch (e) {
      if (e.status === 404) body.append(h('div', { class: 'msg' }, 'Monitors are not enabled on this server.'));
      else body.append(h('div', { class: 'msg err', text: e.message }));
    }
  }

  const panelTypes = ['timeseries', 'bar', 'stacked', 'stat', 'table', 'alerts'];

  function panelShell(p) {
    const el = h('section', { class: 'panel', 'data-panel': p.id, 'data-type': p.type },
      h('div', { class: 'panel-head' }, h('h2', { text: p.title || '(untitled)', title: p.title }), h('span', { class: 'summary' })));
    el.style.gridColumn = 'span ' + Math.max(1, Math.min(12, p.width || 6));
    el.style.gridRow = 'span ' + Math.max(1, Math.min(4, p.height || 2));
    return el;
  }

  // dashboardView draws a dashboard's panels with a time picker; used by
  // dashboard pages and shared links.
  function dashboardView(spec, opts) {
    const grid = $('#panels');
    const defaults = { from: spec.from || 'now-1h', to: spec.to || 'now', refresh: spec.refresh || '' };
    let st = readState(defaults);
    if (opts.frozen) st = { from: opts.frozen.from, to: opts.frozen.to, refresh: '' };
    let timer = null;
    const ctx = {
      links: !!opts.links,
      fetchURL: (p) => opts.panelURL(p, st.from, st.to),
      onZoom: opts.frozen ? null : (a, b) => setRange(iso(a), iso(b)),
    };
    function setRange(from, to) { st.from = from; st.to = to; writeState(st, defaults); draw(); }
    function draw() {
      if (!opts.frozen) timePicker($('#timepicker'), st.from, st.to, setRange);
      clear(grid);
      for (const p of spec.panels) {
        const el = panelShell(p);
        if (p.query && p.type !== 'alerts') {
          el.append(opts.links ? h('a', { class: 'panel-query mono', href: exploreURL(p.query, st.from, st.to), title: 'Open in Explore: ' + p.query, text: p.query })
            : h('span', { class: 'panel-query mono', text: p.query }));
        }
        el.append(h('div', { class: 'panel-body' }, h('div', { class: 'msg', text: 'Loading…' })));
        grid.append(el);
        if (opts.onPanel) opts.onPanel(p, el);
        renderPanel(p, el, ctx);
      }
      if (!spec.panels.length) grid.append(h('p', { class: 'empty', text: 'This dashboard has no panels yet. Press Edit, then Add panel.' }));
    }
    function refresh() {
      for (const p of spec.panels) {
        const el = grid.querySelector('[data-panel="' + CSS.escape(p.id) + '"]');
        if (el && !el.classList.contains('editing')) renderPanel(p, el, ctx);
      }
    }
    function setRefresh(r) {
      if (timer) clearInterval(timer);
      timer = null;
      const ms = parseTime('now-' + r, 0);
      if (r && ms < 0) timer = setInterval(refresh, -ms);
    }
    const sel = $('#refresh');
    if (sel) {
      sel.value = st.refresh;
      sel.addEventListener('change', () => { st.refresh = sel.value; writeState(st, defaults); setRefresh(st.refresh); });
    }
    setRefresh(st.refresh);
    window.addEventListener('popstate', () => { st = readState(defaults); draw(); });
    draw();
    return { redraw: draw, state: () => st };
  }

  Object.assign(bt, { rateWindow, summaryOf, fmtSpan, renderPanel, renderAlerts, panelTypes, panelShell, dashboardView });
})();
