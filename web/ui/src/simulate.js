// simulate.js: the simulator page. The form builds the request of POST
// /api/v1/simulate (a contract's function from its ABI with typed inputs,
// or raw calldata; sender, value, gas, block; state and block overrides)
// and shows the result as the debugger does: failure and its source line,
// balance changes in each token's decimals, call tree, events, state
// changes, with a link to step through it in the debugger.
//
// The permalink is the request itself, as JSON in the URL: ?req=… or, when
// that would be too long for a query string (a large code override),
// #req=…, which the browser keeps to itself. Opening it fills the form and
// runs the same simulation again, on the same block: a request that left
// the block empty is pinned to the block it ran on.
//
// Revert reasons, token symbols, decoded arguments and sources are
// attacker-controlled: they reach the page as text only.
(function () {
  'use strict';
  const bt = window.bt, sol = window.btSolidity;
  if (!bt || !sol) return;
  const { $, h, clear, api } = bt;
  const root = $('#simulator');
  if (!root) return;

  // A query string longer than this goes into the fragment instead.
  const MAX_QUERY = 6000;
  let contracts = []; // watched contracts: {address, name, abi}
  let overrideRows = []; // {kind, el, get()}
  let lastReq = null;

  // ---------- small helpers ----------

  const isAddr = (s) => /^0x[0-9a-fA-F]{40}$/.test(s);
  function short(a) { return a && a.length > 14 ? a.slice(0, 8) + '…' + a.slice(-4) : a || ''; }
  function lower(a) { return String(a || '').toLowerCase(); }
  function byAddr(a) { return contracts.find((c) => lower(c.address) === lower(a)); }

  function abiOf(c) {
    if (!c || !c.abi) return [];
    let a = c.abi;
    if (typeof a === 'string') { try { a = JSON.parse(a); } catch (e) { return []; } }
    return Array.isArray(a) ? a : [];
  }

  function typeSig(p) {
    if (String(p.type).startsWith('tuple')) return '(' + (p.components || []).map(typeSig).join(',') + ')' + p.type.slice(5);
    return p.type;
  }
  function sigOf(f) { return f.name + '(' + (f.inputs || []).map(typeSig).join(',') + ')'; }

  // toUnits turns a decimal amount written by hand ("1.5") into an integer
  // string scaled by 10^dec; it throws a message naming what is wrong.
  function toUnits(text, dec, what) {
    const s = String(text).trim().replace(/_/g, '');
    const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
    if (!m || (m[2] === '' && !m[3])) throw new Error(what + ': "' + text + '" is not a decimal number');
    const frac = (m[3] || '').replace(/0+$/, '');
    if (frac.length > dec) throw new Error(what + ': "' + text + '" has more than ' + dec + ' decimals');
    const v = BigInt((m[2] || '0') + frac.padEnd(dec, '0'));
    return (m[1] && v !== 0n ? '-' : '') + v.toString();
  }

  // fromUnits writes an integer (decimal string or bigint) with dec
  // decimals exactly, no rounding: the form's value field is refilled
  // from a permalink with it.
  function fromUnits(raw, dec) {
    let v = BigInt(raw), neg = v < 0n;
    if (neg) v = -v;
    const s = v.toString().padStart(dec + 1, '0');
    const frac = s.slice(s.length - dec).replace(/0+$/, '');
    return (neg ? '-' : '') + s.slice(0, s.length - dec) + (frac ? '.' + frac : '');
  }

  function hexQuantity(text, what) {
    const s = String(text).trim();
    if (!s) return undefined;
    let v;
    try { v = BigInt(s); } catch (e) { throw new Error(what + ': "' + text + '" is not a whole number'); }
    if (v < 0n) throw new Error(what + ' cannot be negative');
    if (v > 0xffffffffffffffffn) throw new Error(what + ': ' + s + ' does not fit 64 bits');
    return '0x' + v.toString(16);
  }

  function showError(msg) {
    const e = $('#sim-error');
    e.hidden = !msg;
    e.textContent = msg || '';
  }

  // ---------- the form ----------

  function fillContracts() {
    const sel = $('#sim-contract'), abiSel = $('#sim-abi');
    for (const c of contracts) {
      const label = (c.name || 'unnamed') + ' · ' + short(c.address);
      sel.append(h('option', { value: c.address, text: label }));
      abiSel.append(h('option', { value: c.address, text: label }));
    }
  }

  // fnList is the functions of the ABI in use, by signature.
  function fnList() {
    const abiAddr = $('#sim-abi').value || $('#sim-to').value.trim();
    return abiOf(byAddr(abiAddr)).filter((f) => f.type === 'function');
  }

  function fillFunctions(keep) {
    const sel = clear($('#sim-fn'));
    sel.append(h('option', { value: '', text: 'raw calldata' }));
    const fns = fnList();
    fns.sort((a, b) => (a.stateMutability === 'view' || a.stateMutability === 'pure') - (b.stateMutability === 'view' || b.stateMutability === 'pure') || sigOf(a).localeCompare(sigOf(b)));
    for (const f of fns) {
      const sig = sigOf(f);
      sel.append(h('option', { value: sig, text: sig + (f.stateMutability === 'payable' ? ' · payable' : f.stateMutability === 'view' || f.stateMutability === 'pure' ? ' · view' : '') }));
    }
    if (keep && fns.some((f) => sigOf(f) === keep)) sel.value = keep;
    drawArgs();
  }

  const amountName = /amount|value|wad|assets|shares|price|qty|quantity/i;

  // drawArgs draws one input per parameter of the chosen function: a
  // select for bool, a text area for arrays and tuples (JSON), and a
  // decimals field beside integers, which scales a decimal amount.
  function drawArgs(values, decimals) {
    const box = clear($('#sim-args'));
    const sig = $('#sim-fn').value;
    $('#sim-data-row').hidden = !!sig;
    if (!sig) return;
    const f = fnList().find((x) => sigOf(x) === sig);
    if (!f) return;
    (f.inputs || []).forEach((p, i) => {
      const t = typeSig(p), name = p.name || 'arg' + i;
      const v = values && values[i] != null ? (typeof values[i] === 'string' ? values[i] : JSON.stringify(values[i])) : '';
      let input, dec = null;
      if (t === 'bool') {
        input = h('select', { class: 'arg-input', 'data-arg': i }, h('option', { value: 'false', text: 'false' }), h('option', { value: 'true', text: 'true' }));
        if (v) input.value = v;
      } else if (t.endsWith(']') || t.startsWith('(')) {
        input = h('textarea', { class: 'arg-input mono', rows: 2, 'data-arg': i, spellcheck: 'false', placeholder: 'JSON: ' + (t.startsWith('(') ? '["0x…", "1", …] or {"field": …}' : '["…", "…"]') });
        input.value = v;
      } else {
        input = h('input', { class: 'arg-input mono', 'data-arg': i, spellcheck: 'false',
          placeholder: t === 'address' ? '0x… (40 hex digits)' : /^u?int/.test(t) ? 'a whole number, or a decimal amount with decimals set' : /^bytes/.test(t) ? '0x…' : '' });
        input.value = v;
        if (/^u?int/.test(t)) {
          dec = h('input', { class: 'arg-dec mono', 'data-dec': i, placeholder: '0', title: 'Decimals: 1.5 with 18 decimals is 1500000000000000000', inputmode: 'numeric' });
          if (decimals && decimals[i] != null) dec.value = String(decimals[i]);
          // An amount of a known token starts in its decimals.
          else if (!values && amountName.test(name)) {
            Promise.resolve(bt.tokenDecimals($('#sim-to').value.trim())).then((d) => { if (d != null && !dec.value) dec.value = String(d); });
          }
        }
      }
      box.append(h('div', { class: 'sim-arg' },
        h('label', { class: 'grow' }, h('span', {}, name + ' ', h('span', { class: 'mono', text: t })), input),
        dec ? h('label', {}, '× 10^', dec) : null));
    });
  }

  function addOverride(kind, o) {
    o = o || {};
    const addr = h('input', { class: 'mono grow', placeholder: '0x… account', spellcheck: 'false', 'data-ov': 'address', value: o.address || '' });
    const fields = [];
    let get;
    if (kind === 'balance') {
      const v = h('input', { class: 'mono', placeholder: 'ETH', size: 16, 'data-ov': 'balance', value: o.balance != null ? fromUnits(o.balance, 18) : '' });
      fields.push(h('label', {}, 'Balance (ETH)', v));
      get = () => ({ balance: '0x' + BigInt(toUnits(v.value || '0', 18, 'balance override')).toString(16) });
    } else if (kind === 'nonce') {
      const v = h('input', { class: 'mono', size: 8, 'data-ov': 'nonce', value: o.nonce != null ? String(Number(o.nonce)) : '' });
      fields.push(h('label', {}, 'Nonce', v));
      get = () => ({ nonce: hexQuantity(v.value || '0', 'nonce override') });
    } else if (kind === 'storage') {
      const slot = h('input', { class: 'mono grow', placeholder: 'slot (number or 0x…32 bytes)', 'data-ov': 'slot', value: o.slot || '' });
      const val = h('input', { class: 'mono grow', placeholder: 'value (number or 0x…)', 'data-ov': 'value', value: o.value || '' });
      fields.push(h('label', { class: 'grow' }, 'Slot', slot), h('label', { class: 'grow' }, 'Value', val));
      get = () => ({ storage: { [word(slot.value, 'slot')]: word(val.value, 'slot value') } });
    } else {
      const code = h('textarea', { class: 'mono', rows: 2, placeholder: '0x… runtime code', 'data-ov': 'code', spellcheck: 'false' });
      code.value = o.code || '';
      fields.push(h('label', { class: 'grow' }, 'Code', code));
      get = () => {
        const c = code.value.trim();
        if (!/^0x([0-9a-fA-F]{2})*$/.test(c)) throw new Error('code override: want 0x and an even number of hex digits');
        return { code: c };
      };
    }
    const row = { kind, addr };
    row.el = h('div', { class: 'sim-ov', 'data-kind': kind },
      h('label', { class: 'grow' }, kind[0].toUpperCase() + kind.slice(1) + ' of', addr), ...fields,
      h('button', { type: 'button', class: 'ghost small', text: 'Remove', onclick: () => { row.el.remove(); overrideRows = overrideRows.filter((r) => r !== row); } }));
    row.get = () => {
      const a = addr.value.trim();
      if (!isAddr(a)) throw new Error(kind + ' override: "' + a + '" is not an address (0x and 40 hex digits)');
      return [a, get()];
    };
    overrideRows.push(row);
    $('#sim-overrides').append(row.el);
    return row;
  }

  // word reads a storage slot or value: a number or up to 32 bytes of hex.
  function word(text, what) {
    const s = String(text).trim();
    let v;
    try { v = BigInt(s); } catch (e) { throw new Error(what + ': "' + text + '" is not a number or 0x hex'); }
    if (!s || v < 0n || v >= (1n << 256n)) throw new Error(what + ': "' + text + '" does not fit 32 bytes');
    return '0x' + v.toString(16).padStart(64, '0');
  }

  // readForm builds the request from the form, or throws the first
  // mistake it finds.
  function readForm() {
    const req = {};
    const to = $('#sim-to').value.trim();
    if (to) {
      if (!isAddr(to)) throw new Error('To: "' + to + '" is not an address (0x and 40 hex digits)');
      req.to = to;
    }
    const from = $('#sim-from').value.trim();
    if (from && !isAddr(from)) throw new Error('Sender: "' + from + '" is not an address (0x and 40 hex digits)');
    req.from = from || '0x0000000000000000000000000000000000000000';
    const abiAddr = $('#sim-abi').value;
    if (abiAddr) req.abiAddress = abiAddr;
    const sig = $('#sim-fn').value;
    if (sig) {
      req.function = sig;
      // Amounts go as written with their decimals: the server scales
      // them, and the permalink keeps them as the user wrote them.
      const decimals = [];
      req.args = [...document.querySelectorAll('#sim-args [data-arg]')].map((el) => {
        const i = el.dataset.arg, dec = $('#sim-args [data-dec="' + i + '"]');
        const d = dec && dec.value.trim() ? Number(dec.value.trim()) : null;
        if (d != null && (!Number.isInteger(d) || d < 0 || d > 77)) throw new Error('decimals of argument ' + (Number(i) + 1) + ' must be 0-77');
        decimals.push(d);
        return el.value.trim();
      });
      if (decimals.some((d) => d != null)) req.decimals = decimals;
    } else {
      const data = $('#sim-data').value.trim();
      if (data) {
        if (!/^0x([0-9a-fA-F]{2})*$/.test(data)) throw new Error('Calldata: want 0x and an even number of hex digits');
        req.data = data;
      }
    }
    const value = $('#sim-value').value.trim();
    if (value) {
      const wei = BigInt(toUnits(value, 18, 'Value'));
      if (wei < 0n) throw new Error('Value cannot be negative');
      if (wei > 0n) req.value = '0x' + wei.toString(16);
    }
    const gas = hexQuantity($('#sim-gas').value, 'Gas');
    if (gas) req.gas = gas;
    const block = hexQuantity($('#sim-block').value, 'Block');
    if (block) req.block = block;
    const overrides = {};
    for (const r of overrideRows) {
      const [a, part] = r.get();
      const o = overrides[a] || (overrides[a] = {});
      if (part.storage) o.storage = Object.assign(o.storage || {}, part.storage);
      else Object.assign(o, part);
    }
    if (Object.keys(overrides).length) req.overrides = overrides;
    const bnum = hexQuantity($('#sim-bnum').value, 'Block number override'), btime = hexQuantity($('#sim-btime').value, 'Block time override');
    if (bnum || btime) req.blockOverrides = Object.assign({}, bnum ? { number: bnum } : {}, btime ? { time: btime } : {});
    return req;
  }

  // fillForm puts a request (from a permalink or a transaction) back
  // into the form.
  function fillForm(req) {
    const to = req.to || '';
    $('#sim-to').value = to;
    $('#sim-contract').value = byAddr(to) ? byAddr(to).address : '';
    $('#sim-abi').value = req.abiAddress && byAddr(req.abiAddress) ? byAddr(req.abiAddress).address : '';
    fillFunctions(req.function);
    if (req.function && $('#sim-fn').value !== req.function) {
      // The ABI no longer has it: keep the request visible as an error.
      showError('The function ' + req.function + ' is not in the ABI of ' + (req.abiAddress || to) + '.');
    }
    drawArgs(req.args, req.decimals);
    $('#sim-data').value = req.data || '';
    $('#sim-from').value = req.from && !/^0x0{40}$/.test(req.from) ? req.from : '';
    $('#sim-value').value = req.value ? fromUnits(req.value, 18) : '';
    $('#sim-gas').value = req.gas ? String(BigInt(req.gas)) : '';
    $('#sim-block').value = req.block != null ? String(BigInt(req.block)) : '';
    clear($('#sim-overrides'));
    overrideRows = [];
    for (const [a, o] of Object.entries(req.overrides || {})) {
      if (o.balance != null) addOverride('balance', { address: a, balance: o.balance });
      if (o.nonce != null) addOverride('nonce', { address: a, nonce: o.nonce });
      if (o.code != null) addOverride('code', { address: a, code: o.code });
      for (const [slot, value] of Object.entries(o.storage || {})) addOverride('storage', { address: a, slot, value });
    }
    const bo = req.blockOverrides || {};
    $('#sim-bnum').value = bo.number != null ? String(BigInt(bo.number)) : '';
    $('#sim-btime').value = bo.time != null ? String(BigInt(bo.time)) : '';
  }

  // ---------- the permalink ----------

  function permalink(req) {
    const json = JSON.stringify(req);
    const q = new URLSearchParams({ req: json }).toString();
    return q.length <= MAX_QUERY ? '/simulate?' + q : '/simulate#' + q;
  }

  function readPermalink() {
    const from = new URLSearchParams(location.search).get('req') || new URLSearchParams(location.hash.slice(1)).get('req');
    if (!from) return null;
    try {
      const req = JSON.parse(from);
      if (!req || typeof req !== 'object' || Array.isArray(req)) throw new Error('not an object');
      return req;
    } catch (e) {
      showError('The link holds no readable simulation: ' + e.message);
      return null;
    }
  }

  // ---------- the result ----------

  function fmtWei(hex) {
    if (hex == null) return '–';
    try { return fromUnits(BigInt(hex), 18) + ' ETH'; } catch (e) { return String(hex); }
  }

  function frameName(f) {
    const who = f.contract || short(f.codeAddress || f.to || '');
    let fn;
    if (f.call && f.call.method) fn = f.call.method;
    else if (f.input && f.input.length >= 10) fn = f.input.slice(0, 10);
    else if (f.type === 'CREATE' || f.type === 'CREATE2') fn = 'constructor';
    else fn = f.input && f.input !== '0x' ? 'fallback' : 'receive';
    return who + '.' + fn;
  }

  function frameReason(f) {
    if (!f.failed && !f.error) return '';
    if (f.revert && f.revert.message) return f.revert.message;
    if (f.revert && f.revert.name) return f.revert.name;
    return f.revertReason || f.error || 'reverted';
  }

  function drawSummary(res, req) {
    const ok = res.status === 1;
    clear($('#sim-summary')).append(
      h('div', { class: 'row' },
        h('strong', { id: 'sim-status', class: ok ? 'ok' : 'bad', text: ok ? 'success' : 'failed' }),
        h('span', { class: 'dim', text: 'gas ' + (res.gasUsed || 0).toLocaleString() }),
        h('span', { class: 'dim', text: 'block ' + res.blockNumber + (res.blockTime ? ' · time ' + res.blockTime : '') + ' on the state of block ' + res.stateBlock }),
        h('span', { class: 'spacer' }),
        h('a', { class: 'button ghost small', id: 'sim-debug', href: '/debug/' + res.txHash, text: 'Step through in the debugger' })),
      h('div', { class: 'mono small dim wrap', id: 'sim-id', 'data-hash': res.txHash, text: 'simulation ' + res.txHash + (req.function ? ' · ' + req.function : '') }));
  }

  async function drawFailure(res) {
    const box = $('#sim-failure'), card = $('#sim-source-card');
    const f = res.failure;
    box.hidden = !f;
    card.hidden = true;
    if (!f) return;
    const where = f.file ? f.file + ':' + f.line + ':' + f.column : 'no source line (unverified code at ' + f.address + ')';
    clear(box).append(
      h('div', {}, h('span', { class: 'kind', text: (f.revert && f.revert.kind) || 'failure' }), ' ', h('strong', { class: 'reason', id: 'sim-reason', text: f.reason || f.error || 'reverted' })),
      h('div', { class: 'mono small' }, 'originated at ', h('span', { id: 'sim-fail-loc', text: where }), ' in ', h('a', { class: 'mono', href: '/contract/' + f.address, text: f.address }),
        f.approximate ? h('span', { class: 'tag warn', text: 'approximate' }) : null));
    if (!f.file || !f.line) return;
    let text;
    try { text = (await api('/api/v1/sources?' + new URLSearchParams({ file: f.file }).toString())).content; } catch (e) {
      card.hidden = false;
      clear($('#sim-source')).append(h('p', { class: 'bad', text: 'Cannot load ' + f.file + ': ' + e.message }));
      return;
    }
    card.hidden = false;
    $('#sim-src-title').textContent = f.file;
    $('#sim-src-loc').textContent = f.file + ':' + f.line + ':' + f.column;
    const el = $('#sim-source');
    const lines = sol.render(el, text, {});
    el.dataset.file = f.file;
    const line = lines[f.line - 1];
    if (line) {
      line.classList.add('fail', 'cur');
      line.append(h('span', { class: 'fail-note', text: '✖ ' + (f.reason || f.error || 'failure') }));
      el.scrollTop = Math.max(0, line.offsetTop - el.clientHeight / 2);
    }
  }

  function drawBalances(res) {
    const el = clear($('#sim-balances'));
    const list = res.balanceChanges || [];
    if (!list.length) { el.append(h('p', { class: 'empty', text: 'No ether or token balance changed.' })); return; }
    el.append(h('table', { class: 'bal-table mono small' }, list.map((b) => {
      const up = !String(b.delta).startsWith('-');
      const amount = b.decimals != null ? bt.fmtUnits(b.delta, b.decimals) : String(b.delta);
      const asset = b.token ? (b.symbol || short(b.token)) : 'ETH';
      return h('tr', { 'data-account': b.account, 'data-token': b.token || '' },
        h('td', {}, bt.named(h('a', { href: '/address/' + b.account, text: short(b.account), title: b.account }), b.account)),
        h('td', { class: up ? 'up' : 'down', text: (up ? '+' : '') + amount }),
        h('td', {}, b.token ? h('a', { class: 'asset', href: '/contract/' + b.token, title: b.token, text: asset }) : h('span', { class: 'asset', text: asset }),
          b.token && b.decimals == null ? h('span', { class: 'dim', text: ' (raw units: the token has no decimals())' }) : null));
    })));
  }

  function drawTree(res) {
    const el = clear($('#sim-tree'));
    if (!res.root) return;
    const node = (f) => {
      const args = ((f.call && f.call.args) || []).map((a) => (a.name ? a.name + '=' : '') + a.value).join(', ');
      const reason = frameReason(f);
      const li = h('li', {}, h('div', { class: 'frame' + (f.failed ? ' failed' : '') + (f.reverted && !f.failed ? ' reverted' : ''), 'data-frame': f.id },
        h('span', { class: 'ftype', text: f.type }),
        h('span', { class: 'fname mono', text: frameName(f) }),
        h('span', { class: 'fargs mono dim', text: '(' + (args.length > 120 ? args.slice(0, 119) + '…' : args) + ')' }),
        f.value && f.value !== '0x0' ? h('span', { class: 'tag', text: fmtWei(f.value) }) : null,
        h('span', { class: 'spacer' }),
        h('span', { class: 'gas mono small', text: (f.gasUsed || 0).toLocaleString() })));
      if (reason) li.append(h('div', { class: 'freason', text: '↳ ' + reason }));
      if (f.returns && f.returns.length) li.append(h('div', { class: 'freturn mono small dim', text: '→ ' + f.returns.map((a) => (a.name ? a.name + '=' : '') + a.value).join(', ') }));
      if (f.calls && f.calls.length) li.append(h('ul', {}, f.calls.map(node)));
      return li;
    };
    el.append(h('ul', { class: 'tree' }, node(res.root)));
  }

  function drawEvents(res) {
    const el = clear($('#sim-events'));
    if (!res.events || !res.events.length) { el.append(h('p', { class: 'empty', text: 'No events.' })); return; }
    for (const e of res.events) {
      const d = e.decoded;
      el.append(h('div', { class: 'event' + (e.reverted ? ' reverted' : '') },
        h('div', {}, '#' + e.index + ' ', d ? h('strong', { text: d.name }) : h('span', { class: 'mono dim', text: e.topics && e.topics.length ? short(e.topics[0]) : 'anonymous' }),
          ' ', h('a', { class: 'mono small', href: '/contract/' + e.address, text: short(e.address) }),
          e.reverted ? h('span', { class: 'tag', text: 'reverted' }) : null),
        d && d.args && d.args.length ? h('div', { class: 'mono small wrap dim', text: d.args.map((a) => a.name + '=' + a.value).join(', ') }) : null));
    }
  }

  function drawState(res) {
    const el = clear($('#sim-state'));
    const changed = (res.state || []).filter((a) => a.balance || a.nonce || a.codeChanged || (a.storage || []).some((s) => s.before !== s.after));
    if (!changed.length) { el.append(h('p', { class: 'empty', text: 'No state changed.' })); return; }
    for (const a of changed) {
      const box = h('div', { class: 'acct' }, h('div', {}, h('a', { class: 'mono', href: '/address/' + a.address, text: a.address }), a.contract ? h('span', { class: 'dim', text: ' ' + a.contract }) : null));
      if (a.balance) box.append(h('div', { class: 'small' }, 'balance ', h('span', { class: 'mono', text: fmtWei(a.balance.before) + ' → ' + fmtWei(a.balance.after) })));
      if (a.nonce) box.append(h('div', { class: 'small' }, 'nonce ', h('span', { class: 'mono', text: a.nonce.before + ' → ' + a.nonce.after })));
      if (a.codeChanged) box.append(h('div', { class: 'small', text: 'code deployed or destroyed' }));
      const slots = (a.storage || []).filter((s) => s.before !== s.after);
      if (slots.length) {
        box.append(h('table', { class: 'slots mono small' }, slots.map((s) => h('tr', { class: 'changed' },
          h('td', { title: s.slot, text: s.label || short(s.slot) }), h('td', { text: short(s.before) + ' → ' + short(s.after) })))));
      }
      el.append(box);
    }
  }

  // ---------- running ----------

  async function run(req) {
    showError('');
    $('#sim-busy').hidden = false;
    $('#sim-run').disabled = true;
    root.dataset.state = 'running';
    try {
      const res = await api('/api/v1/simulate', { json: req });
      // Pin the block, so that the link gives the same result tomorrow.
      if (req.block == null) {
        req.block = '0x' + BigInt(res.stateBlock).toString(16);
        $('#sim-block').value = String(res.stateBlock);
      }
      lastReq = req;
      const link = permalink(req);
      $('#sim-permalink').href = link;
      history.replaceState(null, '', link);
      $('#sim-result').hidden = false;
      drawSummary(res, req);
      drawBalances(res);
      drawTree(res);
      drawEvents(res);
      drawState(res);
      await drawFailure(res);
      root.dataset.state = 'done';
      root.dataset.hash = res.txHash;
    } catch (e) {
      root.dataset.state = 'error';
      $('#sim-result').hidden = true;
      showError('Cannot simulate: ' + e.message);
    } finally {
      $('#sim-busy').hidden = true;
      $('#sim-run').disabled = false;
    }
  }

  function controls() {
    $('#sim-contract').addEventListener('change', (e) => {
      if (e.target.value) $('#sim-to').value = e.target.value;
      fillFunctions($('#sim-fn').value);
    });
    $('#sim-to').addEventListener('change', () => {
      const c = byAddr($('#sim-to').value.trim());
      $('#sim-contract').value = c ? c.address : '';
      fillFunctions($('#sim-fn').value);
    });
    $('#sim-abi').addEventListener('change', () => fillFunctions($('#sim-fn').value));
    $('#sim-fn').addEventListener('change', () => drawArgs());
    for (const b of document.querySelectorAll('#sim-form [data-add]')) b.addEventListener('click', () => addOverride(b.dataset.add).addr.focus());
    $('#sim-form').addEventListener('submit', (e) => {
      e.preventDefault();
      let req;
      try { req = readForm(); } catch (err) {
        root.dataset.state = 'error';
        showError(err.message);
        return;
      }
      run(req);
    });
  }

  async function start() {
    controls();
    try { contracts = await api('/api/v1/contracts'); } catch (e) { contracts = []; }
    fillContracts();
    fillFunctions();
    // A permalink, or a transaction to re-simulate, runs at once.
    let req = readPermalink();
    if (!req && root.dataset.prefill) {
      try { req = JSON.parse(root.dataset.prefill); } catch (e) { req = null; }
    }
    root.dataset.ready = 'true';
    if (!req) return;
    // A hand-edited link may hold what the form cannot show: the server
    // still says what is wrong with it.
    try { fillForm(req); } catch (e) { showError('The link\'s request cannot be shown in the form: ' + e.message); }
    run(req);
  }

  start();
})();
