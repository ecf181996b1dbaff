// blocktorch web UI. Plain browser JavaScript, no framework. Everything shown
// comes from the JSON API, and everything from the API is attacker-controlled
// (on-chain strings, log lines): it reaches the page only as text nodes
// (textContent, createTextNode) or attribute values, never as markup.
(function () {
  'use strict';

  // ---------- DOM and fetch helpers ----------

  const $ = (sel, root) => (root || document).querySelector(sel);

  // h builds an element. attrs: class, text, on<event> handlers, dataset
  // entries (data-*), and other attributes set with setAttribute.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

  class APIError extends Error {
    constructor(status, body) {
      super((body && body.error) || ('HTTP ' + status));
      this.status = status;
      this.body = body || {};
    }
  }

  async function api(url, opts) {
    const o = Object.assign({ headers: {} }, opts || {});
    if (o.json !== undefined) {
      o.method = o.method || 'POST';
      o.body = JSON.stringify(o.json);
      o.headers['Content-Type'] = 'application/json';
      delete o.json;
    }
    const resp = await fetch(url, o);
    let body = null;
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok || !body || body.status !== 'success') throw new APIError(resp.status, body);
    return body.data;
  }

  // Page scripts (contract.js, debugger.js) share these helpers.
  window.bt = { $, h, clear, api, APIError, named };

  // ---------- formatting ----------

  function pad(n, w) { return String(n).padStart(w || 2, '0'); }

  function fmtTime(ms, withMs) {
    const d = new Date(ms);
    let s = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (withMs) s += '.' + pad(d.getMilliseconds(), 3);
    return s;
  }

  function fmtNum(v) {
    if (v == null || !isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1e12) return (v / 1e12).toFixed(1) + 'T';
    if (a >= 1e9) return (v / 1e9).toFixed(1) + 'B';
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (Number.isInteger(v)) return String(v);
    return v.toFixed(a < 1 ? 3 : 2);
  }

  function fmtCell(v) {
    if (v == null) return '';
    if (typeof v === 'number') return fmtNum(v);
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  // ---------- time ranges ----------

  const units = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

  // parseTime reads what the API reads: now, now-15m, -15m, RFC 3339,
  // unix seconds or milliseconds. '' is null.
  function parseTime(s, now) {
    s = (s || '').trim();
    if (!s) return null;
    if (s === 'now') return now;
    let m = /^(?:now)?-?(\d+)([smhdw])$/.exec(s);
    if (m) return now - Number(m[1]) * units[m[2]];
    if (/^\d+$/.test(s)) { const n = Number(s); return n > 1e12 ? n : n * 1000; }
    const t = Date.parse(s);
    return isNaN(t) ? NaN : t;
  }

  function iso(ms) { return new Date(ms).toISOString(); }

  function exploreURL(q, fromMs, toMs) {
    const p = new URLSearchParams();
    p.set('q', q || '*');
    if (fromMs != null) p.set('from', typeof fromMs === 'number' ? iso(fromMs) : fromMs);
    if (toMs != null) p.set('to', typeof toMs === 'number' ? iso(toMs) : toMs);
    return '/explore?' + p.toString();
  }

  const quickRanges = ['15m', '1h', '6h', '24h', '7d'];

  // timePicker renders quick relative ranges and absolute inputs into el;
  // onChange(from, to) gets the strings the user chose.
  function timePicker(el, from, to, onChange) {
    if (!el) return;
    clear(el);
    const fromIn = h('input', { value: from, 'aria-label': 'From', title: 'From: now-1h, 2026-01-02T15:04:05Z, …' });
    const toIn = h('input', { value: to, 'aria-label': 'To', title: 'To: now, or a time' });
    const quick = h('div', { class: 'quick' }, quickRanges.map((r) => h('button', {
      type: 'button', class: from === 'now-' + r && (to === 'now' || to === '') ? 'on' : '', text: r,
      onclick: () => onChange('now-' + r, 'now'),
    })));
    const apply = () => {
      const now = Date.now();
      const f = parseTime(fromIn.value, now), t = parseTime(toIn.value, now);
      if (Number.isNaN(f) || Number.isNaN(t)) { fromIn.setCustomValidity('not a time'); fromIn.reportValidity(); return; }
      onChange(fromIn.value.trim(), toIn.value.trim());
    };
    for (const i of [fromIn, toIn]) i.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); apply(); } });
    el.append(quick, fromIn, h('span', { class: 'dim', text: '→' }), toIn, h('button', { type: 'button', class: 'ghost small', text: 'Apply', onclick: apply }));
  }

  function readState(defaults) {
    const p = new URLSearchParams(location.search);
    const st = Object.assign({}, defaults);
    for (const k of Object.keys(defaults)) if (p.has(k)) st[k] = p.get(k);
    return st;
  }

  function writeState(st, defaults, replace) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(st)) if (v !== '' && v != null && v !== defaults[k]) p.set(k, v);
    const url = location.pathname + (p.toString() ? '?' + p.toString() : '');
    if (url === location.pathname + location.search) return;
    (replace ? history.replaceState : history.pushState).call(history, null, '', url);
  }

  // ---------- query text ----------

  // splitPipes returns the filter part of a query and its pipes part
  // ("| …", or ''), honouring quotes and backslash escapes.
  function splitPipes(q) {
    let inQ = false;
    for (let i = 0; i < q.length; i++) {
      const c = q[i];
      if (c === '\\') { i++; continue; }
      if (c === '"') inQ = !inQ;
      else if (c === '|' && !inQ) return [q.slice(0, i).trim(), q.slice(i).trim()];
    }
    return [q.trim(), ''];
  }

  function quote(v) { return '"' + String(v).replace(/[\\"]/g, (c) => '\\' + c) + '"'; }

  function addTerm(q, term) {
    const [filter, pipes] = splitPipes(q);
    let f = filter === '*' ? '' : filter;
    if (/\bOR\b/i.test(f)) f = '(' + f + ')';
    return [f, term].filter(Boolean).join(' ') + (pipes ? ' ' + pipes : '');
  }

  // byteToChar maps the API's byte offset in q to a string index.
  function byteToChar(q, pos) {
    const enc = new TextEncoder();
    let bytes = 0;
    for (let i = 0; i < q.length; i++) {
      if (bytes >= pos) return i;
      bytes += enc.encode(q[i]).length;
    }
    return q.length;
  }

  // ---------- contract names ----------

  let namesP = null;
  // contractNames resolves to the known contracts: byAddr maps a
  // lower-case address to its name, byName a lower-case name to its
  // address. Empty where the API is closed (shared views).
  function contractNames() {
    if (!namesP) {
      namesP = api('/api/v1/contracts').then((cs) => cs || [], () => []).then((cs) => {
        const byAddr = new Map(), byName = new Map(), tokens = new Set();
        for (const c of cs) {
          // Contracts whose ABI has decimals() state amounts in units of it.
          if (Array.isArray(c.abi) && c.abi.some((e) => e && e.type === 'function' && e.name === 'decimals' && !(e.inputs || []).length)) tokens.add(c.address.toLowerCase());
          if (!c.name) continue;
          byAddr.set(c.address.toLowerCase(), c.name);
          if (!byName.has(c.name.toLowerCase())) byName.set(c.name.toLowerCase(), c.address);
        }
        return { byAddr, byName, tokens };
      });
    }
    return namesP;
  }

  // named fills el with the name of the contract at addr when one is
  // known (the address stays on hover), else leaves the address.
  function named(el, addr) {
    el.title = addr;
    contractNames().then((k) => {
      const n = k.byAddr.get(String(addr).toLowerCase());
      if (n) { el.textContent = n; el.classList.add('named'); }
    });
    return el;
  }

  // withNames returns a text's nodes with every address of a known
  // contract shown by its name (address on hover); text stays text.
  function withNames(text, into) {
    const re = /0x[0-9a-fA-F]{40}\b/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) into.append(text.slice(last, m.index));
      into.append(named(h('span', { class: 'addr', text: m[0] }), m[0]));
      last = m.index + m[0].length;
    }
    if (last < text.length) into.append(text.slice(last));
    return into;
  }

  const decimalsOf = new Map();
  // tokenDecimals resolves to the decimals() of a known token contract,
  // read once from the node; null for anything else.
  function tokenDecimals(addr) {
    const key = String(addr).toLowerCase();
    if (!decimalsOf.has(key)) {
      decimalsOf.set(key, contractNames().then((k) => (k.tokens.has(key)
        ? api('/api/v1/contracts/' + encodeURIComponent(addr) + '/call', { json: { function: 'decimals()', args: [] } })
          .then((r) => { const d = Number(r.outputs && r.outputs[0] && r.outputs[0].value); return Number.isInteger(d) && d >= 0 && d <= 36 ? d : null; })
        : null)).catch(() => null));
    }
    return decimalsOf.get(key);
  }

  // fmtUnits writes an integer amount (a decimal string) in whole tokens:
  // fmtUnits('1500000', 6) is '1.5'; at most 6 decimals, unless the amount
  // is smaller than that.
  function fmtUnits(raw, dec) {
    let s = String(raw), neg = '';
    if (s[0] === '-') { neg = '-'; s = s.slice(1); }
    if (!/^\d+$/.test(s)) return null;
    s = s.padStart(dec + 1, '0');
    const whole = s.slice(0, s.length - dec).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    let frac = s.slice(s.length - dec, s.length - dec + 6).replace(/0+$/, '');
    // A dust amount below the sixth decimal keeps all its digits.
    if (!frac && /[1-9]/.test(s.slice(s.length - dec))) frac = s.slice(s.length - dec).replace(/0+$/, '');
    return neg + whole + (frac ? '.' + frac : '');
  }

  // amountKeyRe names the arguments that carry a token amount.
  const amountKeyRe = /^args\.(value|amount|amount\d|wad|assets|shares)$/i;

  // timeKeyRe names attributes that hold a time; epochTime reads such a
  // value as unix seconds (or milliseconds) when it is one.
  const timeKeyRe = /(^|[._])(time|timestamp|deadline|expiry|expires)$|(At|Time|Timestamp)$/;
  function epochTime(key, v) {
    if (!timeKeyRe.test(key)) return null;
    const n = typeof v === 'number' ? v : (typeof v === 'string' && /^\d{9,13}$/.test(v) ? Number(v) : NaN);
    if (!isFinite(n)) return null;
    if (n >= 1e9 && n < 1e10) return n * 1000;
    if (n >= 1e12 && n < 1e13) return n;
    return null;
  }

  // ---------- theme ----------

  function initTheme() {
    const saved = localStorage.getItem('bt-theme');
    const prefersLight = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches;
    document.documentElement.dataset.theme = saved || (prefersLight ? 'light' : 'dark');
    const btn = $('#theme-toggle');
    if (btn) btn.addEventListener('click', () => {
      const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
      document.documentElement.dataset.theme = t;
      localStorage.setItem('bt-theme', t);
      // Charts take their colours from CSS when drawn: draw them again.
      for (const c of Object.values(charts)) c.redraw && c.redraw();
    });
  }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  // palette holds 24 colours told apart on both themes, none of them the
  // level/status colours colorFor reserves, so a stack of up to 24 series
  // never repeats one.
  const palette = ['#ff7a1a', '#4e9bff', '#b07cff', '#2ec4b6', '#e86fb2', '#a3d13a', '#ffb000', '#17becf',
    '#9c6b4e', '#7f7fff', '#ff9e80', '#bcbd22', '#d147a3', '#6a8d2f', '#c9a27e', '#1f5fbf',
    '#b8860b', '#7a5195', '#ffcf99', '#3b5bdb', '#00897b', '#ff6f91', '#8d99ae', '#5e35b1'];

  function colorFor(name, i) {
    switch (name) {
      case 'failed': case 'error': case 'fatal': return cssVar('--bad') || '#ff5d5d';
      case 'success': case 'info': return cssVar('--ok') || '#3ecf8e';
      case 'warn': return cssVar('--warn') || '#f2c94c';
      case 'debug': case 'trace': return '#8a96a8';
    }
    return palette[i % palette.length];
  }

  // ---------- charts ----------

  // charts holds every drawn chart by key, for redraws and for tests.
  const charts = {};
  window.__bt = {
    charts,
    // pointPos returns the page coordinates of a data point (the middle of
    // a bar or stack segment), for tests that click it.
    pointPos(key, seriesName, idx) {
      const c = charts[key];
      return c ? c.pointPos(seriesName, idx) : null;
    },
  };

  // timeChart draws series over time with uPlot into el.
  // res: {times, intervalMs, series:[{name, query, values}]}
  // opts: {type: timeseries|bar|stacked, key, link(seriesIdx, bucketIdx), onSelect(fromMs, toMs)}
  function timeChart(el, res, opts) {
    const legendEl = opts.legend === false ? null : h('div', { class: 'legend' });
    const host = h('div', { class: 'chart-host' });
    clear(el).append(host);
    if (legendEl) el.append(legendEl);
    const iv = res.intervalMs || 60000;
    const xs = res.times.map((t) => (t + iv / 2) / 1000);
    const stacked = opts.type === 'stacked';
    const bars = opts.type === 'bar' || stacked;
    const names = res.series.map((s) => s.name);
    // cum[i][j]: top of series i's segment in bucket j when stacked.
    const cum = res.series.map((s) => s.values.map((v) => (v == null ? null : v)));
    if (stacked) {
      for (let i = 1; i < cum.length; i++) {
        for (let j = 0; j < xs.length; j++) cum[i][j] = (cum[i - 1][j] || 0) + (res.series[i].values[j] || 0);
      }
    }
    // uPlot draws in order; stacks are drawn tallest first so the lower
    // segments cover them.
    const order = res.series.map((_, i) => i);
    if (stacked) order.reverse();
    const colors = names.map((n, i) => colorFor(n, i));
    const barPaths = bars && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.86, 80], gap: 1 }) : null;
    let lastSelect = 0;
    const tip = h('div', { class: 'chart-tip', hidden: true });
    const axisStroke = cssVar('--dim') || '#8a96a8';
    const gridStroke = cssVar('--line') || '#252d39';
    const bgFill = cssVar('--panel') || '#151a22';
    // The last bucket, when it is still filling, is veiled and marked so
    // that its lower count does not read as an outage.
    const partial = opts.partial === false ? -1 : partialBucket(res, Date.now());
    const size = () => ({ width: Math.max(200, el.clientWidth), height: Math.max(60, el.clientHeight - (legendEl ? legendEl.offsetHeight + 2 : 0)) });
    const u = new window.uPlot({
      ...size(),
      legend: { show: false },
      padding: [6, 6, 0, 0],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: !bars }, focus: { prox: 24 } },
      select: { show: true },
      scales: { x: { time: true, range: xs.length ? [res.times[0] / 1000, (res.times[res.times.length - 1] + iv) / 1000] : null }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        { stroke: axisStroke, grid: { stroke: gridStroke, width: 1 }, ticks: { stroke: gridStroke }, size: 28, font: '11px system-ui' },
        { stroke: axisStroke, grid: { stroke: gridStroke, width: 1 }, ticks: { show: false }, size: 44, font: '11px system-ui', values: (u, vals) => vals.map(fmtNum) },
      ],
      series: [{}].concat(order.map((i) => ({
        label: names[i], stroke: colors[i], width: bars ? 0 : 2,
        fill: bars ? colors[i] : colors[i] + '22', paths: bars ? barPaths : undefined, points: { show: false },
      }))),
      hooks: {
        draw: [(u) => {
          if (partial < 0) return;
          const x0 = u.valToPos(res.times[partial] / 1000, 'x', true), x1 = u.valToPos((res.times[partial] + iv) / 1000, 'x', true);
          const c = u.ctx, top = u.bbox.top, hgt = u.bbox.height;
          c.save();
          c.globalAlpha = 0.55;
          c.fillStyle = bgFill;
          c.fillRect(x0, top, x1 - x0, hgt);
          c.globalAlpha = 1;
          c.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
          c.strokeStyle = axisStroke;
          c.lineWidth = devicePixelRatio;
          c.strokeRect(x0 + devicePixelRatio / 2, top, x1 - x0 - devicePixelRatio, hgt);
          c.restore();
        }],
        setSelect: [(u) => {
          if (u.select.width < 4 || !opts.onSelect) return;
          const a = u.posToVal(u.select.left, 'x') * 1000, b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          lastSelect = Date.now();
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          // Snap to whole buckets.
          const t0 = res.times[0];
          const from = t0 + Math.floor((a - t0) / iv) * iv, to = t0 + Math.ceil((b - t0) / iv) * iv;
          opts.onSelect(from, Math.max(to, from + iv));
        }],
        setCursor: [(u) => {
          const idx = u.cursor.idx;
          if (idx == null || u.cursor.left < 0) { tip.hidden = true; return; }
          clear(tip);
          tip.append(h('div', { class: 'dim', text: fmtTime(res.times[idx]) + ' +' + fmtDur(iv) + (idx === partial ? ' (so far)' : '') }));
          res.series.slice().reverse().forEach((s) => {
            const v = s.values[idx];
            if (v == null) return;
            tip.append(h('div', {}, h('span', { class: 'sw', style: null }), s.name + ': ' + fmtNum(v)));
            tip.lastChild.firstChild.style.background = colors[res.series.indexOf(s)];
          });
          tip.hidden = false;
          const left = u.cursor.left + u.bbox.left / devicePixelRatio;
          tip.style.left = Math.min(left + 12, host.clientWidth - tip.offsetWidth - 4) + 'px';
          tip.style.top = Math.max(0, u.cursor.top - 10) + 'px';
        }],
      },
    }, [xs].concat(order.map((i) => (stacked ? cum[i] : res.series[i].values))), host);
    host.style.position = 'relative';
    host.append(tip);
    u.over.addEventListener('mouseleave', () => { tip.hidden = true; });

    // seriesAt picks the series under the cursor in bucket idx.
    function seriesAt(idx, top) {
      if (res.series.length <= 1) return 0;
      const y = u.posToVal(top, 'y');
      if (stacked) {
        for (let i = 0; i < cum.length; i++) {
          if ((res.series[i].values[idx] || 0) > 0 && cum[i][idx] >= y) return i;
        }
        for (let i = cum.length - 1; i >= 0; i--) if ((res.series[i].values[idx] || 0) > 0) return i;
        return 0;
      }
      let best = 0, bestD = Infinity;
      res.series.forEach((s, i) => {
        const v = s.values[idx];
        if (v == null) return;
        const d = Math.abs(u.valToPos(v, 'y') - top);
        if (d < bestD) { bestD = d; best = i; }
      });
      return best;
    }

    u.over.addEventListener('click', () => {
      if (Date.now() - lastSelect < 400) return;
      const idx = u.cursor.idx;
      if (idx == null || !opts.link) return;
      const url = opts.link(seriesAt(idx, u.cursor.top), idx);
      if (url) location.href = url;
    });

    if (legendEl) {
      res.series.forEach((s, i) => {
        const sw = h('span', { class: 'sw' });
        sw.style.background = colors[i];
        const href = opts.legendLink ? opts.legendLink(i) : null;
        legendEl.append(href ? h('a', { href }, sw, s.name) : h('span', {}, sw, s.name));
      });
    }

    const ro = new ResizeObserver(() => u.setSize(size()));
    ro.observe(el);
    const c = {
      u, res, names, colors, partial, axisStroke,
      // redraw draws the chart again in place, with the theme's colours.
      redraw() { timeChart(el, res, opts); },
      pointPos(seriesName, idx) {
        const i = names.indexOf(seriesName);
        if (i < 0 || idx < 0 || idx >= xs.length) return null;
        const top = stacked ? cum[i][idx] : res.series[i].values[idx];
        const bottom = stacked && i > 0 ? cum[i - 1][idx] || 0 : 0;
        const r = u.over.getBoundingClientRect();
        return { x: r.left + u.valToPos(xs[idx], 'x'), y: r.top + u.valToPos(bars ? (top + bottom) / 2 : top, 'y') };
      },
      destroy() { ro.disconnect(); u.destroy(); },
    };
    if (opts.key) {
      if (charts[opts.key]) charts[opts.key].destroy();
      charts[opts.key] = c;
    }
    return c;
  }

  function fmtDur(ms) {
    for (const [u, n] of [['d', 86400e3], ['h', 3600e3], ['m', 60e3], ['s', 1e3]]) if (ms >= n && ms % n === 0) return ms / n + u;
    return ms + 'ms';
  }

  // categoryBars draws one bar per category as links to their records.
  function categoryBars(el, res, link) {
    clear(el);
    const vals = (res.series[0] || { values: [] }).values;
    const max = Math.max(1, ...vals.map((v) => v || 0));
    const box = h('div', { class: 'catbars' });
    if (!res.categories || !res.categories.length) { el.append(h('div', { class: 'msg', text: 'No data in this range' })); return; }
    res.categories.forEach((name, i) => {
      const fill = h('div', { class: 'fill' });
      fill.style.width = (100 * (vals[i] || 0) / max).toFixed(1) + '%';
      const href = link ? link(i) : null;
      const label = h('span', { text: name });
      if (typeof name === 'string' && addrRe.test(name)) named(label, name);
      box.append(h(href ? 'a' : 'div', { class: 'catbar', href, title: name }, fill, label, h('span', { class: 'n', text: fmtNum(vals[i]) })));
    });
    el.append(box);
  }

  // resultTable draws a query's output rows; rowLink(i) makes rows links.
  function resultTable(el, res, rowLink) {
    clear(el);
    if (!res.rows || !res.rows.length) { el.append(h('div', { class: 'msg', text: 'No rows in this range' })); return; }
    const numeric = res.columns.map((_, c) => res.rows.every((r) => r[c] == null || typeof r[c] === 'number'));
    const t = h('table', { class: 'result-table' },
      h('thead', {}, h('tr', {}, res.columns.map((c, i) => h('th', { class: numeric[i] ? 'num' : '', text: c })))),
      h('tbody', {}, res.rows.map((r, i) => {
        const href = rowLink ? rowLink(i) : null;
        return h('tr', {}, r.map((v, c) => {
          const ms = epochTime(res.columns[c], v);
          let cell = ms != null ? h('span', { class: 'epoch', title: String(v), text: fmtTime(ms) }) : fmtCell(v);
          if (c === 0 && href) cell = h('a', { href, text: fmtCell(v) || '(none)' });
          if (typeof v === 'string' && addrRe.test(v)) named(typeof cell === 'string' ? (cell = h('span', { text: v })) : cell, v);
          return h('td', { class: numeric[c] ? 'num' : '' }, cell);
        }));
      })));
    el.append(h('div', { class: 'panel-table' }, t));
  }

  // ---------- records ----------

  const hashRe = /^0x[0-9a-fA-F]{64}$/;
  const addrRe = /^0x[0-9a-fA-F]{40}$/;

  // valueNode shows an attribute's value; hashes and addresses link to
  // their pages unless links is false (a shared view, whose reader may
  // open nothing but the link).
  function valueNode(v, links, key) {
    if (links !== false && typeof v === 'string' && hashRe.test(v)) return h('a', { href: '/tx/' + v, text: v });
    if (typeof v === 'string' && addrRe.test(v)) return named(h(links !== false ? 'a' : 'span', { href: links !== false ? '/address/' + v : null, text: v }), v);
    const ms = key ? epochTime(key, v) : null;
    if (ms != null) return h('span', { class: 'epoch', title: String(v), text: fmtTime(ms) });
    return document.createTextNode(typeof v === 'object' ? JSON.stringify(v) : String(v));
  }

  function flatten(obj, prefix, out) {
    for (const [k, v] of Object.entries(obj || {})) {
      const key = prefix ? prefix + '.' + k : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else out.push([key, v]);
    }
    return out;
  }

  // recordNode draws a record, its details on click. opts.links false
  // draws it without links to pages outside a shared view.
  function recordNode(r, isNew, opts) {
    const links = !(opts && opts.links === false);
    const lvl = r.level || 'info';
    const line = h('div', { class: 'rec-line', role: 'button', tabindex: '0', 'aria-expanded': 'false' },
      h('span', { class: 'rec-time', title: r.time, text: fmtTime(Date.parse(r.time), true) }),
      h('span', { class: 'lvl lvl-' + lvl, text: lvl }),
      h('span', { class: 'src', text: r.service || r.kind || r.source }),
      withNames(r.message || '', h('span', { class: 'rec-msg' })));
    const node = h('div', { class: 'rec' + (isNew ? ' new' : ''), 'data-id': r.id }, line);
    let detail = null;
    const toggle = () => {
      if (detail) { detail.remove(); detail = null; line.setAttribute('aria-expanded', 'false'); return; }
      const rows = [['time', r.time], ['source', r.source], ['kind', r.kind], ['level', r.level]];
      if (r.service) rows.push(['service', r.service]);
      if (r.block != null) rows.push(['block', links ? h('a', { href: '/block/' + r.block, text: String(r.block) }) : String(r.block)]);
      for (const tx of r.txHashes || []) rows.push(['tx', valueNode(tx, links)]);
      for (const a of r.addresses || []) rows.push(['address', valueNode(a, links)]);
      for (const [k, v] of flatten(r.attrs, '', [])) {
        let node = valueNode(v, links, k);
        const token = r.attrs && r.attrs.contract;
        if (k === 'value' && r.kind === 'tx' && r.source === 'chain' && /^\d+$/.test(String(v))) {
          // A transaction's value is in wei: show ether.
          node = h('span', { class: 'amount', title: String(v) + ' wei', text: fmtUnits(v, 18) + ' ETH' });
        } else if (amountKeyRe.test(k) && token && /^-?\d+$/.test(String(v))) {
          // A token amount: in whole tokens once its decimals are known.
          node = h('span', { class: 'amount', title: String(v) + ' (raw)', text: String(v) });
          const el = node;
          tokenDecimals(token).then((d) => { if (d != null) { const f = fmtUnits(v, d); if (f != null) el.textContent = f; } });
        }
        rows.push(['attr.' + k, node]);
      }
      rows.push(['message', r.message]);
      detail = h('div', { class: 'rec-detail' }, h('table', {}, rows.map(([k, v]) => h('tr', {}, h('th', { text: k }), h('td', {}, typeof v === 'string' ? v : v)))));
      node.append(detail);
      line.setAttribute('aria-expanded', 'true');
    };
    line.addEventListener('click', (e) => { if (!e.target.closest('a')) toggle(); });
    line.addEventListener('keydown', (e) => { if (e.key === 'Enter') toggle(); });
    // Links in the summary line: the first transaction, and the debugger
    // for a failed one.
    if (r.txHashes && r.txHashes.length && !links) {
      line.lastChild.append(' ', h('span', { class: 'small dim', title: r.txHashes[0], text: r.txHashes[0].slice(0, 10) + '…' }));
    } else if (r.txHashes && r.txHashes.length) {
      line.lastChild.append(' ', h('a', { class: 'small', href: '/tx/' + r.txHashes[0], text: r.txHashes[0].slice(0, 10) + '…' }));
      if (r.source === 'chain' && (r.kind === 'revert' || (r.kind === 'tx' && r.attrs && r.attrs.status === 'failed'))) {
        line.lastChild.append(' ', h('a', { class: 'small debug-link', href: '/debug/' + r.txHashes[0], text: 'Debug' }));
      }
    }
    return node;
  }

  // ---------- Explore ----------

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

  // ---------- dashboards ----------

  // partialBucket is the index of the last bucket when it ends after now
  // (still filling), else -1.
  function partialBucket(res, now) {
    const n = res.times ? res.times.length : 0;
    if (!n || !res.intervalMs) return -1;
    return res.times[n - 1] + res.intervalMs > now ? n - 1 : -1;
  }

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
        body.append(h('div', { class: 'msg' }, 'No alerts have fired. Quiet is good. ', h('a', { href: '/monitors', text: 'Monitors' })));
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

  function download(name, obj) {
    const blob = new Blob([JSON.stringify(obj, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // sharePanel shows the form that makes a share link in box.
  function sharePanel(box, kinds, target, range) {
    box.hidden = !box.hidden;
    if (box.hidden) return;
    clear(box);
    const kind = h('select', { 'aria-label': 'What to share' }, kinds.map(([v, label]) => h('option', { value: v, text: label })));
    const exp = h('select', { 'aria-label': 'Expires' }, [['', 'Never expires'], ['1h', 'Expires in 1 hour'], ['24h', 'Expires in 24 hours'], ['7d', 'Expires in 7 days'], ['30d', 'Expires in 30 days']].map(([v, l]) => h('option', { value: v, text: l })));
    const freeze = h('input', { type: 'checkbox', id: 'share-freeze' });
    const out = h('div', { class: 'row' });
    const create = h('button', { type: 'button', class: 'primary', text: 'Create link', id: 'share-create' });
    create.addEventListener('click', async () => {
      clear(out);
      try {
        const r = range();
        const d = await api('/api/v1/shares', { json: { kind: kind.value, target, freeze: freeze.checked, from: r.from, to: r.to, expiresIn: exp.value } });
        const url = location.origin + d.url;
        const input = h('input', { class: 'share-url', id: 'share-url', readonly: true, value: url });
        out.append(input, h('button', { type: 'button', class: 'ghost', text: 'Copy', onclick: () => { input.select(); navigator.clipboard && navigator.clipboard.writeText(url); } }),
          h('span', { class: 'dim small', text: 'Shown once: only its hash is kept. Revoke it under Share links.' }));
        input.select();
      } catch (e) { out.append(h('span', { class: 'bad', text: e.message })); }
    });
    box.append(h('h2', { text: 'Share read-only' }),
      h('div', { class: 'row' }, kind, exp, h('label', { class: 'toggle', for: 'share-freeze' }, freeze, 'Freeze the current time range'), create), out);
  }

  async function dashboardPage() {
    const root = $('#dashboard');
    const id = root.dataset.id;
    let d;
    try { d = await api('/api/v1/dashboards/' + encodeURIComponent(id)); } catch (e) {
      $('#panels').append(h('p', { class: 'error-box', text: e.message }));
      return;
    }
    let editing = false;
    let draft = null;
    const view = dashboardView(d.spec, {
      links: true,
      panelURL: (p, from, to) => '/api/v1/chart?' + new URLSearchParams({ q: p.query || '', from, to }).toString(),
      onPanel: (p, el) => { if (editing) panelEditor(p, el); },
    });

    function panelEditor(p, el) {
      el.classList.add('editing');
      const i = draft.panels.indexOf(p);
      const f = (label, input) => h('label', { class: 'stack' }, label, input);
      const title = h('input', { value: p.title || '', 'aria-label': 'Title' });
      const type = h('select', { 'aria-label': 'Type' }, panelTypes.map((t) => h('option', { value: t, text: t, selected: t === p.type })));
      const width = h('input', { type: 'number', min: 1, max: 12, value: p.width || 6, 'aria-label': 'Width' });
      const height = h('input', { type: 'number', min: 1, max: 4, value: p.height || 2, 'aria-label': 'Height' });
      const q = h('textarea', { 'aria-label': 'Query', spellcheck: 'false' });
      q.value = p.query || '';
      const summary = h('input', { value: p.summary || '', placeholder: 'total, rate, max, last, ratio:failed', 'aria-label': 'Summary' });
      const sync = () => {
        p.title = title.value; p.type = type.value; p.width = Number(width.value) || 6; p.height = Number(height.value) || 2;
        p.query = q.value; p.summary = summary.value.trim();
        el.style.gridColumn = 'span ' + Math.max(1, Math.min(12, p.width));
        el.style.gridRow = 'span ' + Math.max(1, Math.min(4, p.height));
      };
      for (const inp of [title, type, width, height, q, summary]) inp.addEventListener('input', sync);
      const move = (delta) => {
        const j = i + delta;
        if (j < 0 || j >= draft.panels.length) return;
        [draft.panels[i], draft.panels[j]] = [draft.panels[j], draft.panels[i]];
        view.redraw();
      };
      el.append(h('div', { class: 'panel-edit' },
        f('Title', title), f('Type', type), f('Width (1-12)', width), f('Height (1-4)', height), q, f('Summary', summary),
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'ghost small', text: '←', title: 'Move earlier', onclick: () => move(-1) }),
          h('button', { type: 'button', class: 'ghost small', text: '→', title: 'Move later', onclick: () => move(1) }),
          h('button', { type: 'button', class: 'ghost small', text: 'Preview', onclick: () => renderPanel(p, el, { links: false, fetchURL: (pp) => '/api/v1/chart?' + new URLSearchParams({ q: pp.query, from: view.state().from, to: view.state().to }).toString() }) }),
          h('button', { type: 'button', class: 'ghost small danger', text: 'Remove', onclick: () => { draft.panels.splice(draft.panels.indexOf(p), 1); view.redraw(); } }))));
    }

    const editBtn = $('#edit-toggle');
    function startEdit() {
      editing = true;
      draft = JSON.parse(JSON.stringify(d.spec));
      d.spec.panels.splice(0, d.spec.panels.length, ...draft.panels);
      draft.panels = d.spec.panels;
      $('#edit-bar').hidden = false;
      editBtn.classList.add('on');
      view.redraw();
    }
    async function stopEdit(save) {
      if (save) {
        try {
          d = await api('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'PUT', json: { name: d.name, spec: Object.assign({}, d.spec, { panels: draft.panels }) } });
        } catch (e) { alert('Cannot save: ' + e.message); return; }
      } else {
        d = await api('/api/v1/dashboards/' + encodeURIComponent(id));
      }
      editing = false;
      location.reload();
    }
    if (editBtn) {
      editBtn.addEventListener('click', () => (editing ? stopEdit(false) : startEdit()));
      $('#save-dash').addEventListener('click', () => stopEdit(true));
      $('#cancel-edit').addEventListener('click', () => stopEdit(false));
      $('#add-panel').addEventListener('click', () => {
        draft.panels.push({ id: 'p' + Date.now().toString(36), title: 'New panel', type: 'timeseries', query: '* | timechart count() by level', width: 6, height: 2 });
        view.redraw();
      });
      if (new URLSearchParams(location.search).get('edit') === '1') startEdit();
      $('#rename-btn').addEventListener('click', async () => {
        const name = prompt('New name', d.name);
        if (!name) return;
        try {
          d = await api('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'PUT', json: { name, spec: d.spec } });
          $('#dash-title').textContent = d.name;
          document.title = d.name + ' · blocktorch';
        } catch (e) { alert(e.message); }
      });
      $('#export-btn').addEventListener('click', () => download((d.name || 'dashboard').replace(/[^\w.-]+/g, '_') + '.json', { name: d.name, spec: d.spec }));
      $('#duplicate-btn').addEventListener('click', async () => {
        try {
          const c = await api('/api/v1/dashboards', { json: { name: 'Copy of ' + d.name, spec: d.spec } });
          location.href = '/dashboards/' + encodeURIComponent(c.id);
        } catch (e) { alert(e.message); }
      });
      $('#delete-btn').addEventListener('click', async () => {
        if (!confirm(id === 'home' ? 'Reset the home dashboard to the built-in one?' : 'Delete the dashboard “' + d.name + '”?')) return;
        try {
          await api('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'DELETE' });
          location.href = id === 'home' ? '/' : '/dashboards';
        } catch (e) { alert(e.message); }
      });
    }
    const shareBtn = $('#share-btn');
    if (shareBtn) shareBtn.addEventListener('click', () => sharePanel($('#share-panel'), [['dashboard', 'This dashboard']], id, () => view.state()));
  }

  function dashboardsPage() {
    const err = $('#list-error');
    const fail = (e) => { err.hidden = false; err.textContent = e.message; };
    $('#new-dashboard').addEventListener('click', async () => {
      const name = prompt('Name of the new dashboard', 'My dashboard');
      if (!name) return;
      try {
        const d = await api('/api/v1/dashboards', { json: { name, spec: { from: 'now-1h', to: 'now', panels: [
          { title: 'Records by level', type: 'stacked', query: '* | timechart count() by level', width: 12, height: 2 }] } } });
        location.href = '/dashboards/' + encodeURIComponent(d.id) + '?edit=1';
      } catch (e) { fail(e); }
    });
    $('#import-dashboard').addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      try {
        const obj = JSON.parse(await file.text());
        const d = await api('/api/v1/dashboards', { json: { name: obj.name, spec: obj.spec } });
        location.href = '/dashboards/' + encodeURIComponent(d.id);
      } catch (e) { fail(e); }
    });
  }

  function searchesPage() {
    for (const tr of document.querySelectorAll('#search-list tbody tr')) {
      const id = tr.dataset.id;
      tr.addEventListener('click', async (ev) => {
        const b = ev.target.closest('button');
        if (!b) return;
        if (b.dataset.action === 'delete') {
          if (!confirm('Delete the saved search “' + tr.dataset.name + '”?')) return;
          try { await api('/api/v1/searches/' + encodeURIComponent(id), { method: 'DELETE' }); tr.remove(); } catch (e) { alert(e.message); }
        } else if (b.dataset.action === 'share') {
          const box = $('#share-panel');
          box.hidden = true;
          sharePanel(box, [['search', 'Live search: ' + tr.dataset.name], ['snapshot', 'Snapshot of the results now']], id, () => ({ from: '', to: '' }));
        }
      });
    }
  }

  async function sharesPage() {
    const tbody = $('#share-list tbody'), evBody = $('#share-events tbody');
    async function load() {
      const [list, events] = await Promise.all([api('/api/v1/shares'), api('/api/v1/shares/events')]);
      clear(tbody);
      if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No share links yet. Share a dashboard or a saved search.' })));
      const titles = {};
      for (const s of list) {
        titles[s.id] = s.title;
        // expires and revoked are absent when never.
        const zero = (t) => !t;
        const status = s.active ? h('span', { class: 'ok', text: 'active' }) : h('span', { class: 'bad', text: zero(s.revoked) ? 'expired' : 'revoked' });
        tbody.append(h('tr', { 'data-id': s.id },
          h('td', { text: s.title }), h('td', { text: s.kind }),
          h('td', { class: 'mono small', text: s.from ? s.from + ' → ' + s.to : 'live' }),
          h('td', { text: fmtTime(Date.parse(s.created)) }),
          h('td', { text: zero(s.expires) ? 'never' : fmtTime(Date.parse(s.expires)) }),
          h('td', {}, status),
          h('td', { class: 'actions' }, s.active ? h('button', { type: 'button', class: 'ghost small danger', text: 'Revoke', onclick: async () => {
            if (!confirm('Revoke this link? Anyone holding it loses access.')) return;
            try { await api('/api/v1/shares/' + encodeURIComponent(s.id), { method: 'DELETE' }); load(); } catch (e) { alert(e.message); }
          } }) : null)));
      }
      clear(evBody);
      for (const e of events) {
        evBody.append(h('tr', {}, h('td', { text: fmtTime(Date.parse(e.time)) }), h('td', { text: titles[e.shareId] || e.shareId }),
          h('td', { text: e.action }), h('td', { class: 'dim', text: e.detail || '' })));
      }
    }
    load().catch((e) => tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'bad', text: e.message }))));
  }

  // ---------- shared links ----------

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

  // ---------- chain object pages ----------

  async function txPage() {
    const el = $('#related');
    try {
      const d = await api('/api/v1/search?' + new URLSearchParams({ q: el.dataset.query, limit: 100 }).toString());
      clear(el);
      if (!(d.records || []).length) el.append(h('p', { class: 'empty', text: 'No off-chain log mentions this transaction.' }));
      for (const r of d.records || []) el.append(recordNode(r));
    } catch (e) { clear(el).append(h('p', { class: 'bad', text: e.message })); }
  }

  function addressPage() {
    const el = $('#activity');
    const defaults = { from: 'now-24h', to: 'now' };
    let st = readState(defaults);
    async function draw() {
      timePicker($('#timepicker'), st.from, st.to, (f, t) => { st = { from: f, to: t }; writeState(st, defaults); draw(); });
      try {
        const res = await api('/api/v1/chart?' + new URLSearchParams({ q: el.dataset.query, from: st.from, to: st.to }).toString());
        if (!res.series.length) { clear(el).append(h('div', { class: 'msg', text: 'No activity in this range' })); return; }
        timeChart(el, res, {
          type: 'stacked', key: 'activity',
          link: (si, bi) => exploreURL(res.series[si].query, res.times[bi], res.times[bi] + res.intervalMs),
          legendLink: (si) => exploreURL(res.series[si].query, Date.parse(res.from), Date.parse(res.to)),
          onSelect: (a, b) => { st = { from: iso(a), to: iso(b) }; writeState(st, defaults); draw(); },
        });
      } catch (e) { clear(el).append(h('div', { class: 'msg err', text: e.message })); }
    }
    draw();
  }

  // ---------- start ----------

  // jumpTarget is the page the search box opens for v: a transaction, a
  // block, a known contract (by address or by name, any case), an
  // address; null for a free-text search.
  async function jumpTarget(v) {
    if (hashRe.test(v)) return '/tx/' + v;
    if (/^\d+$/.test(v)) return '/block/' + v;
    const known = await contractNames();
    if (addrRe.test(v)) return known.byAddr.has(v.toLowerCase()) ? '/contract/' + v : '/address/' + v;
    const addr = known.byName.get(v.toLowerCase());
    return addr ? '/contract/' + addr : null;
  }

  function initJump() {
    const f = $('form.jump');
    if (!f) return;
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = f.q.value.trim();
      if (!v) return;
      const to = await jumpTarget(v);
      location.href = to || '/explore?' + new URLSearchParams({ q: v }).toString();
    });
  }

  function start() {
    initTheme();
    initJump();
    const page = document.body.dataset.page;
    const pages = { explore: explorePage, dashboard: dashboardPage, dashboards: dashboardsPage, searches: searchesPage, shares: sharesPage, shared: sharedPage, address: addressPage };
    if ($('#related')) txPage();
    const fn = pages[page];
    if (fn && (window.uPlot || page === 'dashboards' || page === 'searches' || page === 'shares')) fn();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
