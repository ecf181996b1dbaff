// bt.js: what every page of the blocktorch web UI shares, loaded first on
// every page: DOM and fetch helpers, formatting, time ranges, query text,
// contract names, token amounts, the theme, the search box and the share
// form. It creates window.bt, the one namespace the other scripts read
// their helpers from and add theirs to; page scripts then run through
// bt.onPage. Plain browser JavaScript, no framework, no bundler: each file
// is a classic deferred script, run in the order the page lists them.
// Everything shown comes from the JSON API, and everything from the API is
// attacker-controlled (on-chain strings, log lines): it reaches the page
// only as text nodes (textContent, createTextNode) or attribute values,
// never as markup.
(function () {
  'use strict';
  const bt = {};
  window.bt = bt;

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
      for (const c of Object.values(bt.charts || {})) c.redraw && c.redraw();
    });
  }

  const hashRe = /^0x[0-9a-fA-F]{64}$/;
  const addrRe = /^0x[0-9a-fA-F]{40}$/;

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

  // ---------- start ----------

  // ready runs fn once the document is parsed. Scripts are deferred, so it
  // is as a rule already; the check keeps a script loaded otherwise safe.
  function ready(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn); else fn();
  }

  // onPage runs a page script's start function on its own page (the body's
  // data-page). opts.charts: the page draws charts, so it starts only when
  // the chart library loaded.
  function onPage(name, fn, opts) {
    ready(() => {
      if (document.body.dataset.page !== name) return;
      if (opts && opts.charts && !window.uPlot) return;
      fn();
    });
  }

  ready(() => { initTheme(); initJump(); });

  Object.assign(bt, { ready, onPage, $, h, clear, APIError, api, pad, fmtTime, fmtNum, fmtCell, units, parseTime, iso, exploreURL, quickRanges, timePicker, readState, writeState, splitPipes, quote, addTerm, byteToChar, contractNames, named, withNames, tokenDecimals, fmtUnits, amountKeyRe, timeKeyRe, epochTime, hashRe, addrRe, sharePanel });
})();
