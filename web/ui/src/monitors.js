// monitors.js: the monitors page. The list, active alerts, silences, alert
// history and dead letters come from the monitors API (/api/v1/monitors,
// /alerts, /silences, /deadletters). The editor shows the monitor it is
// about and applies it with /api/v1/monitors/apply?mode=merge: only the
// monitors of its text are created or replaced. It never applies the text
// as the whole file (as `blocktorch monitors apply` does), because the file's
// channels carry secrets the page never sees and would be lost.
// Everything from the API is text: it reaches the page through
// textContent and attributes only.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { $, h, clear, api } = bt;
  const root = $('#monitors');
  if (!root) return;

  let monitors = [];
  let lastFired = {};
  const charts = {};

  // ---------- formatting ----------

  function fmtTime(t) {
    const d = new Date(t);
    if (isNaN(d)) return '';
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }
  function fmtAgo(t) {
    const s = Math.round((Date.now() - Date.parse(t)) / 1000);
    if (isNaN(s)) return '';
    if (s < 60) return Math.max(s, 0) + 's ago';
    if (s < 3600) return Math.round(s / 60) + 'm ago';
    if (s < 86400) return Math.round(s / 3600) + 'h ago';
    return Math.round(s / 86400) + 'd ago';
  }
  function fmtIn(t) {
    const s = Math.round((Date.parse(t) - Date.now()) / 1000);
    if (isNaN(s)) return '';
    if (s < 60) return 'in ' + Math.max(s, 0) + 's';
    if (s < 3600) return 'in ' + Math.round(s / 60) + 'm';
    return 'in ' + (s / 3600).toFixed(1) + 'h';
  }
  function title(spec) { return spec.name || spec.id; }
  function stateOf(m) {
    let st = 'ok';
    for (const a of m.alerts || []) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') st = 'pending';
    }
    return m.spec.disabled ? 'disabled' : st;
  }
  function originName(o) { return { builtin: 'built-in', code: 'monitors file', api: 'UI / API' }[o] || o; }
  function errorText(e) { return e && e.message ? e.message : String(e); }

  // exploreLink is the search of an alert's records around its time.
  function exploreLink(ev, d) {
    const t = Date.parse(ev.time);
    const from = new Date(t - 10 * 60000).toISOString(), to = new Date(t + 60000).toISOString();
    let q = '*';
    if (d.tx) q = 'tx:' + d.tx;
    else if (d.labels && d.labels.address) q = 'address:' + d.labels.address;
    else if (d.labels && d.labels.contract && /^0x[0-9a-fA-F]{40}$/.test(d.labels.contract)) q = 'address:' + d.labels.contract;
    return '/explore?' + new URLSearchParams({ q, from, to }).toString();
  }

  // ---------- YAML ----------

  // The YAML written here is read back by the server's parser: strings are
  // plain only when they cannot mean anything else, otherwise JSON-quoted
  // (a JSON string is a YAML double-quoted scalar).
  const reserved = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
  function scalar(v) {
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const s = String(v);
    if (/^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(s) && !reserved.test(s)) return s;
    return JSON.stringify(s);
  }
  function specYAML(spec) {
    const lines = [];
    let first = true;
    for (const [k, v] of Object.entries(spec)) {
      if (v == null || v === '' || v === false || (Array.isArray(v) && !v.length)) continue;
      if (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length) continue;
      const lead = first ? '  - ' : '    ';
      first = false;
      if (Array.isArray(v)) lines.push(lead + k + ': [' + v.map(scalar).join(', ') + ']');
      else if (typeof v === 'object') {
        lines.push(lead + k + ':');
        for (const [lk, lv] of Object.entries(v)) lines.push('      ' + scalar(lk) + ': ' + scalar(lv));
      } else lines.push(lead + k + ': ' + scalar(v));
    }
    return lines.join('\n') + '\n';
  }
  function fileYAML(specs) {
    return '# Apply creates or replaces the monitors below; every other monitor and\n# channel stays as it is. Schema: schemas/monitors.schema.json\nmonitors:\n' +
      specs.map(specYAML).join('\n');
  }
  // dryRunYAML is every monitor shown, for a dry run only (never applied).
  function dryRunYAML(specs) { return 'monitors:\n' + specs.map(specYAML).join('\n'); }

  const templates = {
    event: { kind: 'event', contract: '*', event: 'Transfer', where: ['value >= 1e24'], groupBy: ['contract'], severity: 'warning' },
    call: { kind: 'call', contracts: ['*'], method: 'withdraw', status: 'failed', internal: true, severity: 'warning' },
    callers: { kind: 'callers', contracts: ['*'], method: 'pause', allow: ['0x0000000000000000000000000000000000000001'], severity: 'critical' },
    txfail: { kind: 'txfail', contracts: ['*'], reason: '*Unauthorized*', groupBy: ['contract', 'reason'], severity: 'critical' },
    slo: { kind: 'slo', contracts: ['*'], objective: 0.95, window: '5m', minCount: 20, severity: 'error' },
    state: { kind: 'state', contract: 'Token', read: 'totalSupply', condition: 'change% > 10', severity: 'warning' },
    balance: { kind: 'balance', address: '0x0000000000000000000000000000000000000001', dropPct: 10, blocks: 50, severity: 'critical' },
    nodata: { kind: 'nodata', contracts: ['*'], event: 'AnswerUpdated', within: '5m', severity: 'critical' },
    query: { kind: 'query', query: 'level:error | stats count()', window: '1m', condition: '> 50', severity: 'error' },
    // Price-feed health, over every followed feed ("*") or the feeds named
    // (name or address), with each feed's own thresholds where unset.
    'feed-stale': { kind: 'feed-stale', contracts: ['*'], grace: '30s', severity: 'critical' },
    'feed-jump': { kind: 'feed-jump', contracts: ['*'], pct: 20, severity: 'critical' },
    'feed-deviation': { kind: 'feed-deviation', contracts: ['*'], pct: 3, severity: 'warning' },
    'feed-nonpositive': { kind: 'feed-nonpositive', contracts: ['*'], severity: 'critical' },
    'feed-bounds': { kind: 'feed-bounds', contracts: ['*'], severity: 'critical' },
    'feed-stale-read': { kind: 'feed-stale-read', contracts: ['*'], grace: '30s', severity: 'critical' },
    'sequencer-down': { kind: 'sequencer-down', contracts: ['*'], grace: '1h', severity: 'critical' },
  };
  // What a new monitor's file says of its kind's parameters (YAML comments).
  const kindNotes = {
    'feed-stale': ['fires when a feed\'s latest answer is older than its heartbeat + grace, judged at every block.',
      'heartbeat: 1h here overrides each feed\'s own (set per feed on its page or with blocktorch oracle add --heartbeat).'],
    'feed-jump': ['fires when an answer moves more than pct percent from the one before it; holds until the next answer.'],
    'feed-deviation': ['fires when a feed is more than pct percent away from its reference feed.',
      'reference: NAME or 0x… compares every feed with that one; unset, each feed\'s own reference and, without pct, its own threshold.'],
    'feed-nonpositive': ['fires when a feed answers zero or less.'],
    'feed-bounds': ['fires when a feed\'s answer is pinned at its aggregator\'s minAnswer or maxAnswer.'],
    'feed-stale-read': ['fires when a contract read an answer older than the feed\'s heartbeat + grace (seen in call traces).',
      'heartbeat: 1h here overrides each feed\'s own.'],
    'sequencer-down': ['fires when an L2 sequencer-uptime feed says down (answer 1), and for grace after it comes back up.',
      'it watches the feeds followed as sequencer feeds (blocktorch oracle add ADDRESS --sequencer); the feed-* kinds leave them alone.'],
  };

  // ---------- editor ----------

  const ta = $('#yaml'), gutter = $('#yaml-gutter');
  let errorLines = new Set();

  function drawGutter() {
    const n = ta.value.split('\n').length;
    const out = [];
    for (let i = 1; i <= n; i++) out.push(i);
    clear(gutter);
    out.forEach((i) => gutter.append(h('span', { class: errorLines.has(i) ? 'err' : null, text: String(i) }), '\n'));
    gutter.scrollTop = ta.scrollTop;
  }
  ta.addEventListener('input', drawGutter);
  ta.addEventListener('scroll', () => { gutter.scrollTop = ta.scrollTop; });

  function selectLine(line, col) {
    const lines = ta.value.split('\n');
    let at = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    const len = (lines[line - 1] || '').length;
    ta.focus();
    ta.setSelectionRange(at + Math.max(0, (col || 1) - 1), at + len);
    const lh = ta.scrollHeight / Math.max(lines.length, 1);
    ta.scrollTop = Math.max(0, (line - 4) * lh);
  }
  function selectMonitor(id) {
    const lines = ta.value.split('\n');
    const i = lines.findIndex((l) => /^\s*-\s*id:/.test(l) && l.replace(/^\s*-\s*id:\s*/, '').replace(/^"|"$/g, '') === id);
    if (i >= 0) selectLine(i + 1, 1);
  }

  function openEditor(text, heading) {
    $('#editor-card').hidden = false;
    $('#editor-title').textContent = heading || 'Monitors file';
    ta.value = text;
    showErrors([]);
    $('#apply-result').textContent = '';
    drawGutter();
    $('#editor-card').scrollIntoView({ block: 'start' });
  }

  // showErrors lists "file:line:col: message" problems next to the text.
  function showErrors(list) {
    const ul = clear($('#yaml-errors'));
    errorLines = new Set();
    if (!list.length) ul.append(h('li', { class: 'empty', text: 'None found yet. Apply or dry-run to check the file.' }));
    for (const msg of list) {
      const m = /^[^:\n]*:(\d+):(\d+):\s*([\s\S]*)$/.exec(msg) || /^[^:\n]*:(\d+):\s*([\s\S]*)$/.exec(msg);
      if (m && m.length === 4) {
        const line = Number(m[1]), col = Number(m[2]);
        errorLines.add(line);
        ul.append(h('li', {}, h('a', { href: '#', class: 'mono', 'data-line': line, text: 'line ' + line + ':' + col, onclick: (e) => { e.preventDefault(); selectLine(line, col); } }), ' ', m[3]));
      } else if (m) {
        const line = Number(m[1]);
        errorLines.add(line);
        ul.append(h('li', {}, h('a', { href: '#', class: 'mono', 'data-line': line, text: 'line ' + line, onclick: (e) => { e.preventDefault(); selectLine(line, 1); } }), ' ', m[2]));
      } else ul.append(h('li', { text: msg }));
    }
    drawGutter();
  }

  // applyText merges the text's monitors into the monitors file's set and
  // deletes the ids in del; nothing else changes.
  async function applyText(text, del) {
    const q = new URLSearchParams({ file: 'monitors.yaml', mode: 'merge' });
    for (const id of del || []) q.append('delete', id);
    return api('/api/v1/monitors/apply?' + q.toString(), { method: 'POST', body: text, headers: { 'Content-Type': 'application/yaml' } });
  }

  $('#apply').addEventListener('click', async () => {
    const res = $('#apply-result');
    res.className = 'small';
    res.textContent = 'Applying…';
    try {
      const r = await applyText(ta.value);
      showErrors([]);
      const parts = [];
      if (r.created.length) parts.push('created ' + r.created.join(', '));
      if (r.updated.length) parts.push('updated ' + r.updated.join(', '));
      if (r.deleted.length) parts.push('deleted ' + r.deleted.join(', '));
      res.className = 'small ok';
      res.textContent = 'Applied: ' + (parts.join('; ') || 'nothing changed');
      await refresh();
    } catch (e) {
      res.className = 'small bad';
      res.textContent = 'Not applied: nothing changed.';
      showErrors(errorText(e).split('\n').filter(Boolean));
    }
  });
  $('#editor-close').addEventListener('click', () => { $('#editor-card').hidden = true; });

  const kindSel = $('#new-kind');
  Object.keys(templates).forEach((k) => kindSel.append(h('option', { value: k, text: k })));
  $('#new-monitor').addEventListener('click', () => {
    const kind = kindSel.value;
    let id = 'my-' + kind, n = 2;
    const ids = new Set(monitors.map((m) => m.spec.id));
    while (ids.has(id)) id = 'my-' + kind + '-' + n++;
    const spec = Object.assign({ id, name: 'New ' + kind + ' monitor' }, templates[kind]);
    const notes = (kindNotes[kind] || []).map((l) => '# ' + kind + ': ' + l + '\n').join('');
    openEditor(notes + fileYAML([spec]), 'New ' + kind + ' monitor');
    selectMonitor(id);
  });

  // ---------- dry run ----------

  async function dryRun(text) {
    const card = $('#dry-run-card'), el = clear($('#dry-run'));
    card.hidden = false;
    el.append(h('p', { class: 'empty', text: 'Replaying the last 24 hours…' }));
    card.scrollIntoView({ block: 'start' });
    try {
      const r = await api('/api/v1/monitors/dry-run?hours=24', { method: 'POST', body: text, headers: { 'Content-Type': 'application/yaml' } });
      drawDryRun(r);
    } catch (e) {
      clear(el).append(h('p', { class: 'bad', text: 'Dry run failed:' }), h('pre', { class: 'mono small wrap', text: errorText(e) }));
      if (!$('#editor-card').hidden) showErrors(errorText(e).split('\n').filter(Boolean));
    }
  }

  function drawDryRun(r) {
    const el = clear($('#dry-run'));
    const from = Date.parse(r.from), to = Date.parse(r.to), span = Math.max(1, to - from);
    $('#dry-run-range').textContent = fmtTime(r.from) + ' – ' + fmtTime(r.to) + ' · ' + r.blocks + ' blocks replayed';
    const rows = [];
    for (const m of r.monitors || []) {
      const track = h('div', { class: 'track' });
      const fired = (m.firings || []).filter((f) => f.status === 'firing');
      // A firing lasts until its resolution (or the end of the range).
      (m.firings || []).forEach((f, i) => {
        if (f.status !== 'firing') return;
        const end = (m.firings.slice(i + 1).find((g) => g.status !== 'firing' && (g.key || '') === (f.key || '')) || {}).time;
        const a = (Date.parse(f.time) - from) / span, b = ((end ? Date.parse(end) : to) - from) / span;
        const seg = h('span', { class: 'seg', title: fmtTime(f.time) + ' ' + f.summary });
        seg.style.left = (Math.max(0, a) * 100).toFixed(2) + '%';
        seg.style.width = (Math.max(0.004, b - a) * 100).toFixed(2) + '%';
        track.append(seg);
      });
      rows.push(h('tr', { 'data-id': m.id },
        h('td', {}, h('strong', { text: m.id }), ' ', h('span', { class: 'mono dim small', text: m.kind })),
        h('td', { class: 'track-cell' }, m.skipped ? h('span', { class: 'dim small', text: 'not replayed: ' + m.skipped }) : track),
        h('td', { class: 'n', text: m.skipped ? '–' : String(fired.length) })));
      if (fired.length) {
        rows.push(h('tr', { class: 'sub' }, h('td', { colspan: 3 }, h('details', {}, h('summary', { class: 'small', text: 'when ' + m.id + ' would have fired' }),
          h('table', { class: 'grid-table small' }, (m.firings || []).map((f) => h('tr', {},
            h('td', { class: 'nowrap', text: fmtTime(f.time) }), h('td', {}, h('span', { class: 'status status-' + f.status, text: f.status })),
            h('td', {}, f.block ? h('a', { href: '/block/' + f.block, text: String(f.block) }) : ''),
            h('td', { class: 'wrap', text: f.summary || '' }),
            h('td', {}, f.tx ? h('a', { href: '/debug/' + f.tx, text: 'Debug' }) : ''))))))));
      }
    }
    el.append(h('table', { class: 'grid-table dry-run' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Monitor' }), h('th', {}, h('span', { text: fmtTime(r.from) }), h('span', { class: 'right', text: fmtTime(r.to) })), h('th', { text: 'Firings' }))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 3, class: 'empty', text: 'No monitors to replay.' })))));
  }

  $('#dry-run-all').addEventListener('click', () => dryRun(dryRunYAML(monitors.map((m) => Object.assign({}, m.spec, { channels: [] })))));
  $('#dry-run-file').addEventListener('click', () => dryRun(ta.value));

  // ---------- list ----------

  async function putSpec(spec) { return api('/api/v1/monitors/' + encodeURIComponent(spec.id), { method: 'PUT', json: spec }); }

  // codeChange changes one monitor of the monitors file's set (null
  // deletes it); the others and the channels stay.
  async function codeChange(spec, change) {
    const next = change(Object.assign({}, spec));
    if (next) await applyText(fileYAML([next]));
    else await applyText('monitors: []\n', [spec.id]);
  }

  function actionsFor(m) {
    const s = m.spec, out = [];
    const act = (label, fn, cls) => h('button', { type: 'button', class: 'small ' + (cls || 'ghost'), 'data-action': label.toLowerCase(), text: label, onclick: async () => {
      try { await fn(); await refresh(); } catch (e) { alert(errorText(e)); }
    } });
    if (m.origin === 'api') {
      out.push(act(s.disabled ? 'Enable' : 'Disable', () => putSpec(Object.assign({}, s, { disabled: !s.disabled }))));
      out.push(act('Delete', async () => { if (confirm('Delete monitor ' + s.id + '?')) await api('/api/v1/monitors/' + encodeURIComponent(s.id), { method: 'DELETE' }); }, 'ghost danger'));
    } else if (m.origin === 'code') {
      out.push(h('button', { type: 'button', class: 'small ghost', 'data-action': 'edit', text: 'Edit', onclick: () => { openEditor(fileYAML([s]), 'Edit ' + title(s)); selectMonitor(s.id); } }));
      out.push(act(s.disabled ? 'Enable' : 'Disable', () => codeChange(s, (x) => Object.assign(x, { disabled: !s.disabled }))));
      out.push(act('Delete', async () => { if (confirm('Delete monitor ' + s.id + ' from the monitors file?')) await codeChange(s, () => null); }, 'ghost danger'));
    } else {
      out.push(h('button', { type: 'button', class: 'small ghost', 'data-action': 'copy', title: 'Built-in monitors cannot change; edit a copy in the monitors file', text: 'Copy to file', onclick: () => {
        const copy = Object.assign({}, s, { id: s.id.replace(/^builtin\./, '') + '-copy' });
        openEditor(fileYAML([copy]), 'Copy of ' + title(s));
        selectMonitor(copy.id);
      } }));
    }
    if (s.kind === 'state' || s.kind === 'balance') out.push(h('button', { type: 'button', class: 'small ghost', 'data-action': 'chart', text: 'Chart', onclick: () => drawSeries(m) }));
    out.push(h('button', { type: 'button', class: 'small ghost', 'data-action': 'silence', text: 'Silence', onclick: () => {
      const f = $('#silence-form');
      f.matcher.value = 'monitor == ' + s.id;
      f.matcher.focus();
    } }));
    return out;
  }

  function drawList() {
    const tb = clear($('#monitor-list tbody'));
    $('#monitors-count').textContent = monitors.length + ' monitors';
    if (!monitors.length) { tb.append(h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No monitors. Create one with New monitor.' }))); return; }
    for (const m of monitors) {
      const s = m.spec, st = stateOf(m), lf = lastFired[s.id];
      const labels = Object.entries(s.labels || {}).sort().map(([k, v]) => h('span', { class: 'tag', text: k + '=' + v }));
      tb.append(h('tr', { 'data-id': s.id, class: 'row-' + st },
        h('td', {}, h('strong', { text: title(s) }), ' ', h('span', { class: 'mono dim small', text: s.id }), labels.length ? ' ' : null, labels,
          m.error ? h('div', { class: 'bad small', text: m.error }) : null),
        h('td', { class: 'mono', text: s.kind }),
        h('td', {}, h('span', { class: 'state state-' + st, text: st }), (m.alerts || []).length > 1 ? h('span', { class: 'dim small', text: ' ×' + m.alerts.length }) : null),
        h('td', { class: 'dim small', title: lf ? fmtTime(lf) : '', text: lf ? fmtAgo(lf) : 'never' }),
        h('td', { class: 'small', text: (s.channels || []).join(', ') || '' }, (s.channels || []).length ? null : h('span', { class: 'dim', text: 'none' })),
        h('td', { class: 'small', text: originName(m.origin) }),
        h('td', { class: 'actions' }, actionsFor(m))));
    }
  }

  function drawActive(active) {
    const el = clear($('#active-summary'));
    const firing = active.filter((a) => a.state === 'firing'), pending = active.filter((a) => a.state === 'pending');
    if (!active.length) { el.append(h('span', { class: 'state state-ok', text: 'all clear' })); return; }
    if (firing.length) el.append(h('span', { class: 'state state-firing', text: firing.length + ' firing' }));
    if (pending.length) el.append(h('span', { class: 'state state-pending', text: pending.length + ' pending' }));
    const names = [...new Set(firing.concat(pending).map((a) => a.monitorId))];
    el.append(h('span', { class: 'small dim', text: ' ' + names.slice(0, 4).join(', ') + (names.length > 4 ? ' …' : '') }));
  }

  // ---------- series chart ----------

  async function drawSeries(m) {
    const card = $('#chart-card'), el = clear($('#series-chart'));
    card.hidden = false;
    $('#chart-title').textContent = title(m.spec) + ' — values read at each block';
    try {
      const pts = await api('/api/v1/monitors/' + encodeURIComponent(m.spec.id) + '/series?limit=2000');
      const num = (v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v));
      const xs = [], ys = [];
      for (const p of pts || []) { const y = num(p.value); if (isFinite(y)) { xs.push(Date.parse(p.time) / 1000); ys.push(y); } }
      $('#chart-note').textContent = (pts || []).length + ' points' + (m.spec.condition ? ' · fires when ' + m.spec.condition : '');
      if (!xs.length || !window.uPlot) { el.append(h('p', { class: 'empty', text: 'No values read yet.' })); return; }
      const css = getComputedStyle(document.documentElement);
      const dim = css.getPropertyValue('--dim').trim() || '#8a96a8', line = css.getPropertyValue('--line').trim() || '#252d39', acc = css.getPropertyValue('--accent').trim() || '#ff7a1a';
      if (charts.series) charts.series.destroy();
      charts.series = new window.uPlot({
        width: Math.max(300, el.clientWidth), height: 200, legend: { show: false }, padding: [6, 6, 0, 0],
        scales: { x: { time: true } },
        axes: [{ stroke: dim, grid: { stroke: line, width: 1 }, ticks: { stroke: line }, font: '11px system-ui' },
          { stroke: dim, grid: { stroke: line, width: 1 }, ticks: { show: false }, size: 60, font: '11px system-ui' }],
        series: [{}, { label: m.spec.id, stroke: acc, width: 2, fill: acc + '22', points: { show: xs.length < 60 } }],
      }, [xs, ys], el);
      card.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      el.append(h('p', { class: 'bad', text: errorText(e) }));
    }
  }

  // ---------- silences ----------

  async function loadSilences() {
    const tb = clear($('#silences tbody'));
    const ss = await api('/api/v1/silences');
    if (!ss.length) { tb.append(h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'No silences.' }))); return; }
    for (const s of ss) {
      const ms = Array.isArray(s.matchers) ? s.matchers : [];
      tb.append(h('tr', { 'data-id': s.id },
        h('td', { class: 'mono small' }, ms.map((x) => h('div', { text: x }))),
        h('td', { class: 'small', title: fmtTime(s.ends), text: fmtIn(s.ends) + ' (' + fmtTime(s.ends) + ')' }),
        h('td', { class: 'small', text: s.comment || '' }),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'small ghost danger', text: 'Delete', onclick: async () => {
          try { await api('/api/v1/silences/' + encodeURIComponent(s.id), { method: 'DELETE' }); await loadSilences(); } catch (e) { alert(errorText(e)); }
        } }))));
    }
  }
  $('#silence-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target, err = $('#silence-error');
    err.hidden = true;
    try {
      await api('/api/v1/silences', { json: { matchers: [f.matcher.value.trim()], duration: f.duration.value, comment: f.comment.value.trim() } });
      f.matcher.value = ''; f.comment.value = '';
      await loadSilences();
    } catch (ex) { err.hidden = false; err.textContent = errorText(ex); }
  });

  // ---------- dead letters ----------

  async function loadDeadLetters() {
    const tb = clear($('#deadletters tbody'));
    const ds = await api('/api/v1/deadletters?limit=50');
    if (!ds.length) { tb.append(h('tr', {}, h('td', { colspan: 5, class: 'empty', text: 'None: every notification was delivered or is still being retried.' }))); return; }
    for (const d of ds) {
      const p = d.payload || {};
      tb.append(h('tr', { 'data-id': d.id },
        h('td', { class: 'small', text: d.channel }),
        h('td', { class: 'small' }, h('div', { text: (p.monitor || p.monitorId || '') + (p.status ? ' · ' + p.status : '') }), h('div', { class: 'dim', text: p.summary || d.key })),
        h('td', { class: 'n', text: String(d.attempts) }),
        h('td', { class: 'small bad wrap', text: d.lastError || '' }),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'small', text: 'Retry', onclick: async () => {
          try { await api('/api/v1/deadletters/' + d.id + '/retry', { method: 'POST' }); await loadDeadLetters(); } catch (e) { alert(errorText(e)); }
        } }))));
    }
  }

  // ---------- history ----------

  let before = 0;
  // ?monitor=id (the home page's alert links) opens that monitor's history.
  let wanted = new URLSearchParams(location.search).get('monitor') || '';
  function historyRow(ev) {
    const d = ev.detail || {};
    const labels = Object.entries(d.labels || {}).sort().map(([k, v]) => h('span', { class: 'tag', text: k + '=' + v }));
    return h('tr', { 'data-id': ev.id, class: 'status-row-' + ev.status },
      h('td', { class: 'nowrap small', title: ev.time, text: fmtTime(ev.time) }),
      h('td', {}, h('a', { href: '#', class: 'mono small', text: ev.monitorId, onclick: (e) => { e.preventDefault(); $('#history-monitor').value = ev.monitorId; loadHistory(false); } })),
      h('td', {}, h('span', { class: 'status status-' + ev.status, text: ev.status })),
      h('td', { class: 'small wrap', text: d.summary || '' }),
      h('td', { class: 'labels' }, labels),
      h('td', {}, ev.block ? h('a', { href: '/block/' + ev.block, text: String(ev.block) }) : ''),
      h('td', { class: 'nowrap small' }, h('a', { href: exploreLink(ev, d), text: 'Search' }), d.tx ? ' · ' : null, d.tx ? h('a', { href: '/debug/' + d.tx, class: 'debug-link', text: 'Debug' }) : null,
        ev.status === 'firing' ? [' · ', h('button', { type: 'button', class: 'small open-incident', text: 'Open incident', onclick: () => openIncident(ev) })] : null));
  }
  // openIncident opens an incident from a firing alert in one click and
  // goes to its page.
  async function openIncident(ev) {
    try {
      const res = await api('/api/v1/incidents', { json: { alert: { monitor: ev.monitorId, key: ev.key || '' } } });
      location.href = '/incidents/' + res.incident.id;
    } catch (e) { alert(errorText(e)); }
  }
  async function loadHistory(more) {
    const mon = $('#history-monitor').value;
    const q = new URLSearchParams({ limit: '50' });
    if (mon) q.set('monitor', mon);
    if (more && before) q.set('before', String(before));
    const evs = await api('/api/v1/alerts?' + q.toString());
    const tb = $('#history tbody');
    if (!more) clear(tb);
    if (!evs.length && !more) tb.append(h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No alerts yet.' })));
    evs.forEach((ev) => tb.append(historyRow(ev)));
    if (evs.length) before = evs[evs.length - 1].id;
    $('#history-more').hidden = evs.length < 50;
  }
  $('#history-more').addEventListener('click', () => loadHistory(true).catch((e) => alert(errorText(e))));
  $('#history-monitor').addEventListener('change', () => loadHistory(false));

  function fillHistoryMonitors() {
    const sel = $('#history-monitor'), cur = sel.value;
    clear(sel).append(h('option', { value: '', text: 'every monitor' }));
    monitors.forEach((m) => sel.append(h('option', { value: m.spec.id, text: m.spec.id })));
    sel.value = cur || wanted;
    if (sel.value !== (cur || wanted)) sel.value = '';
    wanted = '';
  }

  // ---------- refresh ----------

  async function refresh() {
    const [ms, active, recent] = await Promise.all([api('/api/v1/monitors'), api('/api/v1/alerts/active'), api('/api/v1/alerts?limit=500')]);
    monitors = ms || [];
    lastFired = {};
    for (const ev of recent || []) if (ev.status === 'firing' && !lastFired[ev.monitorId]) lastFired[ev.monitorId] = ev.time;
    drawList();
    drawActive(active || []);
    fillHistoryMonitors();
  }

  async function tick() {
    try {
      await refresh();
      if ($('#history-more').hidden) await loadHistory(false);
      await loadDeadLetters();
      root.dataset.ready = 'true';
    } catch (e) {
      root.dataset.error = errorText(e);
    }
  }
  Promise.all([tick(), loadSilences().catch(() => {})]).then(() => {
    setInterval(() => { if (!document.hidden) tick(); }, 5000);
  });
})();
