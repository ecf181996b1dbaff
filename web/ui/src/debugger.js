// debugger.js: the step debugger. The call tree, events, state changes and
// failure come from /api/v1/debug/{tx}; source-level moves (into, over,
// out, back, run to line) from /api/v1/debug/{tx}/nav; the steps
// themselves a page at a time from /api/v1/debug/{tx}/steps, with a few
// pages cached, so a trace of millions of steps is never loaded whole.
// Revert reasons, decoded arguments and sources are attacker-controlled:
// they reach the page as text only.
(function () {
  'use strict';
  const bt = window.bt, sol = window.btSolidity;
  if (!bt || !sol) return;
  const { $, h, clear, api } = bt;
  const root = $('#debugger');
  if (!root) return;
  const tx = root.dataset.hash;
  const base = '/api/v1/debug/' + tx;

  const PAGE = 200; // steps per request
  const KEEP = 8; // pages kept in memory
  const pages = new Map(); // first step → Promise of steps
  const sources = new Map(); // file → Promise of text
  let res = null, total = 0, cur = -1, frames = new Map();
  let view = { file: null, lines: [] };
  let busy = false;
  // queued is the last move asked for while another ran: keys pressed
  // during a slow step are kept, not dropped.
  let queued = null;

  function showError(msg) {
    const e = $('#dbg-error');
    e.hidden = !msg;
    e.textContent = msg || '';
  }

  // ---------- data ----------

  function stepAt(i) {
    const from = Math.floor(i / PAGE) * PAGE;
    let p = pages.get(from);
    if (!p) {
      p = api(base + '/steps?' + new URLSearchParams({ from, count: Math.min(PAGE, total - from) }).toString()).then((d) => d.steps);
      p.catch(() => pages.delete(from));
      pages.set(from, p);
      while (pages.size > KEEP) pages.delete(pages.keys().next().value);
    } else {
      pages.delete(from); // most recently used last
      pages.set(from, p);
    }
    return p.then((steps) => steps[i - from]);
  }

  function source(file) {
    let p = sources.get(file);
    if (!p) {
      p = api('/api/v1/sources?' + new URLSearchParams({ file }).toString()).then((d) => d.content);
      p.catch(() => sources.delete(file));
      sources.set(file, p);
    }
    return p;
  }

  // ---------- formatting ----------

  function short(a) { return a && a.length > 14 ? a.slice(0, 8) + '…' + a.slice(-4) : a || ''; }

  function fmtWei(hex) {
    if (hex == null) return '–';
    let v;
    try { v = BigInt(hex); } catch (e) { return String(hex); }
    const neg = v < 0n;
    if (neg) v = -v;
    const whole = v / 10n ** 18n, frac = (v % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '').slice(0, 6);
    return (neg ? '-' : '') + whole.toString() + (frac ? '.' + frac : '') + ' ETH';
  }

  function frameName(f) {
    const who = f.contract || short(f.codeAddress || (f.to || ''));
    let fn = '';
    if (f.call && f.call.method) fn = f.call.method;
    else if (f.input && f.input.length >= 10) fn = f.input.slice(0, 10);
    else if (f.type === 'CREATE' || f.type === 'CREATE2') fn = 'constructor';
    else fn = f.input && f.input !== '0x' ? 'fallback' : 'receive';
    return who + '.' + fn;
  }

  function frameArgs(f) {
    const args = (f.call && f.call.args) || [];
    const s = args.map((a) => (a.name ? a.name + '=' : '') + a.value).join(', ');
    return s.length > 120 ? s.slice(0, 119) + '…' : s;
  }

  function frameReason(f) {
    if (!f.failed && !f.error) return '';
    if (f.revert && f.revert.message) return f.revert.message;
    if (f.revert && f.revert.name) return f.revert.name;
    return f.revertReason || f.error || 'reverted';
  }

  // ---------- panels drawn once ----------

  function drawFailure() {
    const box = $('#dbg-failure');
    const f = res.failure;
    if (!f) { box.hidden = true; return; }
    box.hidden = false;
    const where = f.file ? f.file + ':' + f.line + ':' + f.column : 'no source line (unverified code at ' + f.address + ')';
    clear(box).append(...[
      h('div', {}, h('span', { class: 'kind', text: (f.revert && f.revert.kind) || 'failure' }), ' ', h('strong', { class: 'reason', text: f.reason || f.error || 'reverted' })),
      h('div', { class: 'mono small' }, 'originated at ', h('a', { href: '#', class: 'fail-loc', text: where, onclick: (e) => { e.preventDefault(); go('failure'); } }),
        ' in ', bt.named(h('a', { class: 'mono', href: '/contract/' + f.address, text: f.address }), f.address),
        f.approximate ? h('span', { class: 'tag warn', title: f.fromLine && f.fromLine < f.toLine ? 'Inferred: the origin is somewhere in lines ' + f.fromLine + '-' + f.toLine + ' of ' + f.file : 'Inferred: the compiler\'s mapping is not exact here', text: 'approximate' }) : null),
      f.caught && f.caught.length ? h('div', { class: 'dim small', text: f.caught.length + ' earlier failure(s) in this transaction were caught and are not the origin.' }) : null].filter(Boolean));
  }

  function drawTree() {
    const el = clear($('#tree'));
    const rootGas = Math.max(1, res.root.gasUsed || 1);
    const node = (f) => {
      frames.set(f.id, f);
      const bar = h('span', { class: 'gasbar' }, h('span', { class: 'fill' }));
      bar.firstChild.style.width = Math.max(1, Math.min(100, 100 * (f.gasUsed || 0) / rootGas)).toFixed(1) + '%';
      const reason = frameReason(f);
      const row = h('button', {
        type: 'button', class: 'frame' + (f.failed ? ' failed' : '') + (f.reverted && !f.failed ? ' reverted' : ''), 'data-frame': f.id,
        title: f.firstStep >= 0 ? 'Go to step ' + f.firstStep : 'This call ran no code',
        onclick: () => { if (f.firstStep >= 0) go('goto', f.firstStep); },
      },
      h('span', { class: 'ftype', text: f.type }),
      h('span', { class: 'fname mono', text: frameName(f) }),
      h('span', { class: 'fargs mono dim', text: '(' + frameArgs(f) + ')' }),
      f.value && f.value !== '0x0' ? h('span', { class: 'tag', text: fmtWei(f.value) }) : null,
      h('span', { class: 'spacer' }),
      bar, h('span', { class: 'gas mono small', text: (f.gasUsed || 0).toLocaleString() }));
      const li = h('li', {}, row);
      if (reason) li.append(h('div', { class: 'freason', text: '↳ ' + reason }));
      if (f.returns && f.returns.length) li.append(h('div', { class: 'freturn mono small dim', text: '→ ' + f.returns.map((a) => (a.name ? a.name + '=' : '') + a.value).join(', ') }));
      if (f.calls && f.calls.length) li.append(h('ul', {}, f.calls.map(node)));
      return li;
    };
    el.append(h('ul', { class: 'tree' }, node(res.root)));
  }

  function drawEvents() {
    const el = clear($('#events'));
    if (!res.events || !res.events.length) { el.append(h('p', { class: 'empty', text: 'No events.' })); return; }
    for (const e of res.events) {
      const d = e.decoded;
      el.append(h('div', { class: 'event' + (e.reverted ? ' reverted' : '') },
        h('div', {}, '#' + e.index + ' ', d ? h('strong', { text: d.name }) : h('span', { class: 'mono dim', text: e.topics && e.topics.length ? short(e.topics[0]) : 'anonymous' }),
          ' ', h('a', { class: 'mono small', href: '/contract/' + e.address, text: short(e.address) }),
          e.reverted ? h('span', { class: 'tag', text: 'reverted' }) : null,
          e.step >= 0 ? h('button', { type: 'button', class: 'ghost small', text: 'step ' + e.step, onclick: () => go('goto', e.step) }) : null),
        d && d.args && d.args.length ? h('div', { class: 'mono small wrap dim', text: d.args.map((a) => a.name + '=' + a.value).join(', ') }) : null));
    }
  }

  function drawState() {
    const el = clear($('#state'));
    if (!res.state || !res.state.length) { el.append(h('p', { class: 'empty', text: 'No state read or changed.' })); return; }
    for (const a of res.state) {
      const box = h('div', { class: 'acct' }, h('div', {}, h('a', { class: 'mono', href: '/contract/' + a.address, text: a.address }), a.contract ? h('span', { class: 'dim', text: ' ' + a.contract }) : null));
      if (a.balance) box.append(h('div', { class: 'small' }, 'balance ', h('span', { class: 'mono', text: fmtWei(a.balance.before) + ' → ' + fmtWei(a.balance.after) })));
      if (a.nonce) box.append(h('div', { class: 'small' }, 'nonce ', h('span', { class: 'mono', text: a.nonce.before + ' → ' + a.nonce.after })));
      if (a.codeChanged) box.append(h('div', { class: 'small', text: 'code deployed or destroyed' }));
      if (a.storage && a.storage.length) {
        box.append(h('table', { class: 'slots mono small' }, a.storage.map((s) => h('tr', { class: s.before !== s.after ? 'changed' : '' },
          h('td', { title: s.slot, text: s.label ? s.label : short(s.slot) }),
          h('td', { text: s.written ? (s.before === s.after ? 'written, unchanged' : short(s.before) + ' → ' + short(s.after)) : 'read ' + short(s.before) }),
          h('td', {}, h('span', { class: 'dim', text: 'frame ' + s.frame }))))));
      }
      el.append(box);
    }
  }

  // ---------- the current step ----------

  async function drawSource(step) {
    let loc = step.source;
    const title = $('#src-title'), locEl = $('#src-loc'), el = $('#src');
    const f = res.failure;
    // A step the compiler maps to a whole contract (most via-IR code)
    // names no statement: it is shown as such, not as the contract's line.
    const mapped = (l) => l && l.file && !l.generated && !l.wholeContract;
    // At the failing step the source pane shows the failure's origin, as
    // the failure banner does: the step itself may sit in compiler-generated
    // code (a panic helper) or, in optimised code, in a revert tail the
    // compiler shares with another statement.
    if (f && f.file && step.index === f.step) loc = { file: f.file, line: f.line, column: f.column, approximate: f.approximate };
    if (!mapped(loc)) {
      clear(locEl).append(loc && loc.wholeContract ? 'no statement: the compiler maps this instruction to the whole contract (' + loc.file + ') · pc ' + step.pc
        : loc && loc.generated ? 'compiler-generated code · pc ' + step.pc : 'no source for this code (not verified) · pc ' + step.pc + ' ' + step.op);
      // The last source line stays marked, dimmed, as where we came from.
      for (const l of el.querySelectorAll('.line.cur')) { l.classList.remove('cur'); l.classList.add('was'); }
      if (!view.file) clear(el).append(h('p', { class: 'empty', text: loc && (loc.generated || loc.wholeContract) ? 'Compiler-generated code: no source line.' : 'No verified source for the code this step runs.' }));
      el.dataset.curLine = '';
      return;
    }
    if (view.file !== loc.file) {
      let text;
      try { text = await source(loc.file); } catch (e) {
        view = { file: null, lines: [] };
        clear(el).append(h('p', { class: 'bad', text: 'Cannot load ' + loc.file + ': ' + e.message }));
        return;
      }
      view = {
        file: loc.file,
        lines: sol.render(el, text, { onLine: (n) => go('line', n), lineTitle: 'Run to this line' }),
      };
      title.textContent = loc.file;
      el.dataset.file = loc.file;
      if (f && f.file === loc.file && view.lines[f.line - 1]) {
        const fl = view.lines[f.line - 1];
        fl.classList.add('fail');
        fl.append(h('span', { class: 'fail-note', text: '✖ ' + (f.reason || f.error || 'failure') }));
      }
    }
    clear(locEl).append(loc.file + ':' + loc.line + ':' + loc.column);
    if (loc.approximate) locEl.append(h('span', { class: 'tag warn', title: 'The compiler\'s mapping is approximate here', text: 'approximate' }));
    for (const l of el.querySelectorAll('.line.cur, .line.was')) l.classList.remove('cur', 'was');
    const line = view.lines[loc.line - 1];
    el.dataset.curLine = String(loc.line);
    if (!line) return;
    line.classList.add('cur');
    const top = line.offsetTop - el.clientHeight / 2 + line.offsetHeight / 2;
    if (line.offsetTop < el.scrollTop || line.offsetTop + line.offsetHeight > el.scrollTop + el.clientHeight) el.scrollTop = Math.max(0, top);
  }

  function drawStep(step) {
    const f = frames.get(step.frame);
    $('#step-label').textContent = 'step ' + step.index + ' of ' + total + ' · depth ' + step.depth + ' · ' + step.op;
    root.dataset.step = String(step.index);
    for (const b of document.querySelectorAll('#tree .frame.on')) b.classList.remove('on');
    const fb = document.querySelector('#tree .frame[data-frame="' + step.frame + '"]');
    if (fb) fb.classList.add('on');
    clear($('#step-info')).append(h('table', { class: 'kv' },
      [['op', step.op], ['pc', String(step.pc)], ['gas', step.gas.toLocaleString() + ' (cost ' + step.gasCost + ')'], ['depth', String(step.depth)],
        ['call', f ? frameName(f) : '#' + step.frame], step.error ? ['error', step.error] : null].filter(Boolean)
        .map(([k, v]) => h('tr', {}, h('th', { text: k }), h('td', { class: k === 'error' ? 'bad' : 'mono', text: v })))));
    const st = clear($('#stack'));
    const stack = (step.stack || []).slice().reverse();
    if (!stack.length) st.append(h('p', { class: 'empty', text: 'empty' }));
    stack.forEach((w, i) => st.append(h('div', { class: 'word' }, h('span', { class: 'dim', text: String(i).padStart(3, ' ') + ' ' }), w)));
    const mem = clear($('#memory'));
    const hex = (step.memory || '0x').slice(2);
    if (!hex.length) mem.append(h('p', { class: 'empty', text: 'empty' }));
    // 16 bytes a row; the first 8 KiB.
    for (let o = 0; o < hex.length && o < 2 * 8192; o += 32) {
      mem.append(h('div', { class: 'word' }, h('span', { class: 'dim', text: '0x' + (o / 2).toString(16).padStart(4, '0') + ' ' }), hex.slice(o, o + 32)));
    }
    if (step.memSize * 2 > hex.length) mem.append(h('div', { class: 'dim', text: '… ' + step.memSize + ' bytes in all' }));
    const sto = clear($('#storage'));
    if (step.storage) {
      const s = step.storage;
      sto.append(h('div', { class: 'access' }, h('span', { class: 'tag', text: s.kind }), ' ', h('span', { class: 'mono', title: s.slot, text: 'slot ' + short(s.slot) }),
        h('div', { class: 'mono wrap', text: '= ' + s.value })));
    }
    const addr = f && f.address;
    const acct = addr && (res.state || []).find((a) => a.address.toLowerCase() === addr.toLowerCase());
    if (acct && acct.storage && acct.storage.length) {
      sto.append(h('div', { class: 'dim small', text: 'this call\'s storage (' + short(addr) + '), over the whole transaction:' }),
        h('table', { class: 'slots mono small' }, acct.storage.map((s) => h('tr', { class: s.before !== s.after ? 'changed' : '' },
          h('td', { title: s.slot, text: s.label || short(s.slot) }), h('td', { text: short(s.before) + (s.before !== s.after ? ' → ' + short(s.after) : '') })))));
    } else if (!step.storage) sto.append(h('p', { class: 'empty', text: 'no storage access' }));
  }

  async function show(i) {
    if (i < 0 || i >= total) return;
    const step = await stepAt(i);
    if (!step) throw new Error('step ' + i + ' is not in the trace');
    cur = i;
    drawStep(step);
    await drawSource(step);
    const u = new URL(location.href);
    u.searchParams.set('step', String(i));
    history.replaceState(null, '', u.pathname + u.search);
  }

  // go moves: into, over, out, back (source lines, on the server), prev and
  // next (instructions), failure, goto N, line N (run to it).
  async function go(move, arg) {
    if (!res) return;
    if (busy) { queued = [move, arg]; return; }
    busy = true;
    showError('');
    try {
      let target;
      switch (move) {
        case 'prev': target = Math.max(0, cur - 1); break;
        case 'next': target = Math.min(total - 1, cur + 1); break;
        case 'goto': target = arg; break;
        case 'failure':
          if (!res.failure || res.failure.step < 0) throw new Error('The transaction did not fail in code.');
          target = res.failure.step;
          break;
        case 'line': {
          if (!view.file) throw new Error('No source file is shown.');
          const d = await api(base + '/nav?' + new URLSearchParams({ move: 'line', from: cur, file: view.file, line: arg }).toString());
          target = d.step;
          break;
        }
        default: {
          const d = await api(base + '/nav?' + new URLSearchParams({ move, from: Math.max(0, cur) }).toString());
          target = d.step;
        }
      }
      if (!(target >= 0 && target < total)) throw new Error('Step ' + target + ' is outside 0-' + (total - 1) + '.');
      await show(target);
    } catch (e) {
      showError(e.message);
    } finally {
      busy = false;
      if (queued) {
        const [m, a] = queued;
        queued = null;
        go(m, a);
      }
    }
  }

  // ---------- controls ----------

  function controls() {
    for (const b of document.querySelectorAll('#dbg-bar [data-move]')) b.addEventListener('click', () => go(b.dataset.move));
    const gotoIn = $('#goto');
    $('#goto-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const n = Number(gotoIn.value.trim());
      if (!Number.isInteger(n)) { showError('Step must be a whole number.'); return; }
      gotoIn.blur();
      go('goto', n);
    });
    const keys = $('#keys'), toggle = $('#keys-toggle');
    const flip = () => { keys.hidden = !keys.hidden; toggle.setAttribute('aria-expanded', String(!keys.hidden)); };
    toggle.addEventListener('click', flip);
    document.addEventListener('keydown', (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      const map = { i: 'into', o: 'over', u: 'out', b: 'back', n: 'next', p: 'prev', ArrowRight: 'next', ArrowLeft: 'prev', f: 'failure' };
      if (map[e.key]) { e.preventDefault(); go(map[e.key]); return; }
      if (e.key === 'g') { e.preventDefault(); gotoIn.focus(); gotoIn.select(); return; }
      if (e.key === '?') { e.preventDefault(); flip(); }
    });
  }

  async function start() {
    controls();
    try {
      res = await api(base);
    } catch (e) {
      clear($('#src')).append(h('p', { class: 'bad', text: 'Cannot replay the transaction: ' + e.message }));
      return;
    }
    total = res.steps || 0;
    drawFailure();
    drawTree();
    drawEvents();
    drawState();
    $('#go-failure').disabled = !(res.failure && res.failure.step >= 0);
    if (!total) {
      clear($('#src')).append(h('p', { class: 'empty', text: 'The transaction ran no code (a plain transfer).' }));
      $('#step-label').textContent = 'no steps';
      return;
    }
    const want = Number(new URLSearchParams(location.search).get('step'));
    busy = false;
    // Land on the failing line when the transaction failed.
    if (Number.isInteger(want) && new URLSearchParams(location.search).has('step') && want >= 0 && want < total) await go('goto', want);
    else if (res.failure && res.failure.step >= 0) await go('failure');
    else await go('goto', 0);
    root.dataset.ready = 'true';
  }

  start();
})();
