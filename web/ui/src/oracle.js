// oracle.js: the price feed pages. /oracles lists the followed feeds with
// their health (GET /api/v1/oracles) and follows a new one; /oracle/{a}
// shows one feed: its latest round with a live age, details, the chart of
// its answers with a marker per update (click: the update transaction),
// the contracts that read it and its thresholds. Everything a feed or a
// node answers is text: it reaches the page through textContent only.
(function () {
  'use strict';
  const { $, h, clear, api, fmtTime, named, exploreURL, onPage, cssVar, charts } = bt;

  const healthClass = (s) => (s === 'ok' ? 'ok' : 'bad');
  // An L2 sequencer-uptime feed answers 0 (up) or 1 (down).
  const sequencerState = (f) => (f.latest.answer === '0' ? 'up' : 'down') + ' (' + f.latest.answer + ')';
  const fmtAge = (sec) => {
    if (sec == null || !isFinite(sec)) return '';
    // A chain whose block times run ahead of this clock (a fast dev chain).
    if (sec < 0) return '-' + fmtAge(-sec) + ' (block times ahead of this clock)';
    if (sec < 90) return sec + ' s';
    if (sec < 5400) return Math.round(sec / 60) + ' min';
    if (sec < 172800) return (sec / 3600).toFixed(1) + ' h';
    return (sec / 86400).toFixed(1) + ' d';
  };
  const errText = (e) => (e && e.message) || String(e);
  const link = (href, text, cls) => h('a', { href, class: cls || 'mono' }, text);
  const short = (s) => (s && s.length > 14 ? s.slice(0, 8) + '…' + s.slice(-4) : s || '');

  // ---------- /oracles ----------

  async function loadList() {
    const tb = clear($('#feed-list tbody'));
    let feeds;
    try { feeds = await api('/api/v1/oracles'); } catch (e) {
      tb.append(h('tr', {}, h('td', { colspan: 7, class: 'bad', text: errText(e) })));
      return;
    }
    if (!feeds.length) {
      tb.append(h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No feed followed yet: they appear when a watched contract reads one, or follow one above.' })));
      return;
    }
    for (const f of feeds) {
      const d = f.details || {};
      tb.append(h('tr', { 'data-address': f.address },
        h('td', {}, named(link('/oracle/' + f.address, short(f.address)), f.address)),
        h('td', {}, f.kind === 'sequencer' ? h('span', { class: 'tag kind-sequencer', text: 'L2 sequencer' }) : null, f.kind === 'sequencer' ? ' ' : null, d.description || ''),
        h('td', { class: 'mono', text: f.latest ? (f.kind === 'sequencer' ? sequencerState(f) : f.latest.value) : '' }),
        h('td', { text: f.latest ? fmtAge(f.health.ageSeconds) : '' }),
        h('td', { text: fmtAge(f.heartbeatSeconds) + (f.heartbeatDefault ? ' (default)' : '') }),
        h('td', { title: (f.health.problems || []).join('; ') }, h('span', { class: healthClass(f.health.status), text: f.health.status })),
        h('td', { class: 'dim small', text: f.source })));
    }
  }

  onPage('oracles', () => {
    loadList();
    $('#add-feed').addEventListener('submit', async (e) => {
      e.preventDefault();
      const out = $('#add-result');
      const address = e.target.address.value.trim();
      out.className = 'small';
      out.textContent = 'Reading the feed…';
      try {
        const body = { address };
        if (e.target.sequencer.checked) body.sequencer = true;
        await api('/api/v1/oracles', { json: body });
        out.textContent = 'Following ' + address + '.';
        e.target.reset();
        loadList();
      } catch (err) {
        out.className = 'small bad';
        out.textContent = errText(err);
      }
    });
  });

  // ---------- /oracle/{address} ----------

  function kv(tbody, rows) {
    clear(tbody);
    for (const [k, v] of rows) {
      if (v == null || v === '') continue;
      tbody.append(h('tr', {}, h('th', { text: k }), h('td', { class: 'mono wrap' }, v)));
    }
  }

  let feed = null, ageTimer = null;

  // Each check's verdict, linked to the records behind it: an Explore
  // permalink (the query and a fixed time range) the API builds.
  function showChecks(checks) {
    const tb = clear($('#f-checks tbody'));
    if (!checks.length) {
      tb.append(h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'The feed cannot be read: no check can judge it.' })));
      return;
    }
    for (const c of checks) {
      const cls = c.verdict === 'ok' ? 'ok' : c.verdict === 'firing' ? 'bad' : 'dim';
      tb.append(h('tr', { 'data-check': c.check },
        h('td', { class: 'mono', text: c.check }),
        h('td', {}, h('span', { class: cls, text: c.verdict })),
        h('td', { class: 'wrap', text: c.detail }),
        h('td', {}, c.records && c.records.startsWith('/explore?') ? h('a', { href: c.records, class: 'records-link', title: c.query, text: 'records' }) : h('span', { class: 'dim', text: '—' }))));
    }
  }

  function showFeed(f) {
    feed = f;
    const d = f.details || {}, l = f.latest;
    $('#f-name').textContent = d.description || 'Price feed';
    const badge = $('#f-health');
    badge.textContent = f.health.status;
    badge.className = 'badge ' + healthClass(f.health.status);
    const probs = $('#f-problems');
    probs.hidden = !(f.health.problems || []).length;
    probs.textContent = (f.health.problems || []).join('; ');
    showChecks(f.health.checks || []);
    if (l) {
      const age = h('span', { id: 'f-age' });
      kv($('#f-latest'), [
        ['answer', h('span', { id: 'f-value', text: l.value })],
        ['raw answer', l.answer],
        ['roundId', l.roundId],
        ['answeredInRound', l.answeredInRound],
        ['startedAt', fmtTime(Date.parse(l.startedAt))],
        ['updatedAt', fmtTime(Date.parse(l.updatedAt))],
        ['age', age],
        ['minAnswer', l.minAnswer || 'not exposed'],
        ['maxAnswer', l.maxAnswer || 'not exposed'],
      ]);
      // The age counts up live from the answer's update time.
      const updated = Date.parse(l.updatedAt);
      const tick = () => {
        const sec = Math.floor((Date.now() - updated) / 1000);
        age.textContent = fmtAge(sec);
        age.className = sec > f.heartbeatSeconds ? 'bad' : 'ok';
      };
      tick();
      clearInterval(ageTimer);
      ageTimer = setInterval(tick, 1000);
    } else {
      kv($('#f-latest'), [['error', h('span', { class: 'bad', text: f.error || 'unreadable' })]]);
    }
    const rows = [
      ['kind', f.kind === 'sequencer' ? 'L2 sequencer uptime: answer 0 up, 1 down; judged down, or in its grace period for an hour after it comes back up' : 'price'],
      ['description', d.description],
      ['decimals', d.decimals != null ? String(d.decimals) : ''],
      ['version', d.version],
      ['proxy', d.proxy ? 'yes' : 'no'],
      ['aggregator', d.proxy ? link('/contract/' + d.aggregator, d.aggregator) : null],
      ['previous aggregator', f.prevAggregator ? h('span', {}, link('/contract/' + f.prevAggregator, f.prevAggregator), ' changed ' + fmtTime(Date.parse(f.aggregatorChanged))) : null],
      ['heartbeat', fmtAge(f.heartbeatSeconds) + (f.heartbeatDefault ? ' (default)' : '')],
      ['deviation threshold', f.deviationPct + '%' + (f.deviationDefault ? ' (default)' : '')],
      ['reference', f.reference ? link('/oracle/' + f.reference, f.reference) : null],
      ['found', f.source],
    ];
    kv($('#f-details'), rows);
    $('#f-records').href = exploreURL('address:' + f.address + (d.proxy ? ' OR address:' + d.aggregator : ''));
    const form = $('#f-thresholds');
    form.heartbeat.value = f.heartbeatDefault ? '' : fmtDur(f.heartbeatSeconds);
    form.heartbeat.placeholder = fmtDur(f.heartbeatSeconds) + ' (default)';
    form.deviationPct.value = f.deviationDefault ? '' : f.deviationPct;
    form.deviationPct.placeholder = f.deviationPct + ' (default)';
    form.reference.value = f.reference || '';
    form.sequencer.checked = f.kind === 'sequencer';

    const tb = clear($('#f-readers tbody'));
    const readers = f.readers || [];
    if (!readers.length) tb.append(h('tr', {}, h('td', { colspan: 6, class: 'empty', text: 'No contract seen reading it yet.' })));
    for (const r of readers) {
      const ans = r.answer && d.decimals != null ? scale(r.answer, d.decimals) : r.answer;
      tb.append(h('tr', { 'data-reader': r.reader, class: r.stale ? 'failed' : null },
        h('td', {}, named(link('/contract/' + r.reader, short(r.reader)), r.reader)),
        h('td', {}, link('/tx/' + r.tx, short(r.tx)), ' · ' + fmtTime(Date.parse(r.time))),
        h('td', { class: 'mono' }, ans, r.stale ? h('span', { class: 'bad', text: ' stale' }) : null),
        h('td', { text: r.updatedAt && !r.updatedAt.startsWith('0001') ? fmtTime(Date.parse(r.updatedAt)) : '' }),
        h('td', { text: String(r.reads) }),
        h('td', {}, r.staleReads ? h('span', { class: 'bad' }, String(r.staleReads) + ' · last ', link('/tx/' + r.lastStaleTx, short(r.lastStaleTx))) : '0')));
    }
  }

  function fmtDur(sec) {
    if (sec % 86400 === 0) return sec / 86400 + 'd';
    if (sec % 3600 === 0) return sec / 3600 + 'h';
    if (sec % 60 === 0) return sec / 60 + 'm';
    return sec + 's';
  }

  // scale writes a raw integer answer with its decimals.
  function scale(raw, dec) {
    let neg = raw.startsWith('-'), s = neg ? raw.slice(1) : raw;
    if (dec > 0) {
      s = s.padStart(dec + 1, '0');
      s = (s.slice(0, -dec) + '.' + s.slice(-dec)).replace(/\.?0+$/, '');
    }
    return (neg ? '-' : '') + s;
  }

  async function loadHistory() {
    const el = $('#f-chart');
    const range = $('#f-range').value;
    let hist;
    try {
      hist = await api('/api/v1/oracles/' + feed.address + '/history?from=now-' + range);
    } catch (e) {
      clear(el).append(h('p', { class: 'bad', text: errText(e) }));
      return;
    }
    const pts = hist.points || [];
    if (charts.oracle) { charts.oracle.destroy(); delete charts.oracle; }
    const c = hist.cadence || {};
    $('#f-cadence').textContent = pts.length + ' updates' + (c.medianSeconds ? ' · every ' + fmtAge(c.medianSeconds) + ' (median), longest gap ' + fmtAge(c.maxSeconds) : '') + (hist.truncated ? ' · newest ' + pts.length + ' shown' : '');
    clear(el);
    if (!pts.length || !window.uPlot) { el.append(h('p', { class: 'empty', text: 'No update in this range.' })); return; }
    const xs = pts.map((p) => Date.parse(p.updatedAt) / 1000), ys = pts.map((p) => p.value);
    // The feed holds its answer until the next update: the line extends to
    // now, and past the last update (a chain whose block times run ahead of
    // this clock), so that its marker is not on the chart's edge.
    const now = Date.now() / 1000, last = xs[xs.length - 1];
    xs.push(Math.max(now, last + Math.max(1, (last - xs[0]) * 0.02))); ys.push(ys[ys.length - 1]);
    const acc = cssVar('--accent') || '#ff7a1a', dim = cssVar('--dim') || '#8a96a8', line = cssVar('--line') || '#252d39';
    const tip = h('p', { class: 'small dim', id: 'f-tip', hidden: true });
    const chart = new window.uPlot({
      width: Math.max(300, el.clientWidth), height: 240, legend: { show: false }, padding: [8, 8, 0, 0],
      cursor: { points: { show: true }, focus: { prox: 16 } },
      scales: { x: { time: true } },
      axes: [{ stroke: dim, grid: { stroke: line, width: 1 }, ticks: { stroke: line }, font: '11px system-ui' },
        { stroke: dim, grid: { stroke: line, width: 1 }, ticks: { show: false }, size: 70, font: '11px system-ui' }],
      series: [{}, { label: 'answer', stroke: acc, width: 2, fill: acc + '18', paths: window.uPlot.paths.stepped({ align: 1 }),
        points: { show: true, size: 7, stroke: acc, fill: acc, filter: (u, si, show) => (show ? pts.map((_, i) => i) : null) } }],
      hooks: {
        setCursor: [(u) => {
          const i = u.cursor.idx == null ? -1 : Math.min(u.cursor.idx, pts.length - 1);
          if (i < 0) { tip.hidden = true; return; }
          const p = pts[i];
          tip.hidden = false;
          tip.textContent = fmtTime(Date.parse(p.updatedAt)) + ' · ' + p.value + ' · round ' + p.roundId + (p.tx && !/^0x0+$/.test(p.tx) ? ' · click for the transaction' : '');
        }],
      },
    }, [xs, ys], el);
    el.append(tip);
    // Registered like every chart: redrawn on a theme change, and its
    // update markers found by the browser test.
    const u = chart;
    if (charts.oracle && charts.oracle.u !== u) charts.oracle.u.destroy();
    charts.oracle = {
      u, pts,
      redraw: loadHistory,
      pointPos(_, idx) {
        if (idx < 0 || idx >= pts.length) return null;
        const r = u.over.getBoundingClientRect();
        return { x: r.left + u.valToPos(xs[idx], 'x'), y: r.top + u.valToPos(ys[idx], 'y') };
      },
      destroy() { u.destroy(); },
    };
    el.dataset.points = String(pts.length);
    // A click opens the update nearest the cursor (the line's last point,
    // drawn to now, is no update).
    const nearest = () => {
      if (u.cursor.left == null || u.cursor.left < 0) return -1;
      const x = u.posToVal(u.cursor.left, 'x');
      let best = -1;
      for (let i = 0; i < pts.length; i++) if (best < 0 || Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) best = i;
      return best;
    };
    u.over.addEventListener('click', () => {
      const i = nearest();
      if (i < 0) return;
      const tx = pts[i].tx;
      if (tx && !/^0x0+$/.test(tx)) location.href = '/tx/' + tx;
    });
  }

  async function loadFeed(address) {
    try {
      showFeed(await api('/api/v1/oracles/' + address));
    } catch (e) {
      const badge = $('#f-health');
      badge.textContent = 'error';
      badge.className = 'badge bad';
      const probs = $('#f-problems');
      probs.hidden = false;
      probs.textContent = errText(e);
      return false;
    }
    return true;
  }

  onPage('oracle', async () => {
    const address = $('#oracle').dataset.address;
    if (!(await loadFeed(address))) return;
    loadHistory();
    $('#f-range').addEventListener('change', loadHistory);
    // New rounds and reads: refresh every 15 s.
    setInterval(async () => { if (await loadFeed(address)) loadHistory(); }, 15000);
    $('#f-thresholds').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target, out = $('#f-saved');
      const body = { heartbeat: f.heartbeat.value.trim(), reference: f.reference.value.trim(), sequencer: f.sequencer.checked };
      body.deviationPct = f.deviationPct.value === '' ? 0 : Number(f.deviationPct.value);
      try {
        showFeed(await api('/api/v1/oracles/' + address, { json: body }));
        out.className = 'small ok';
        out.textContent = 'Saved.';
      } catch (err) {
        out.className = 'small bad';
        out.textContent = errText(err);
      }
    });
  }, { charts: true });
})();
