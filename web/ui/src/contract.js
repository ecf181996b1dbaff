// contract.js: the contract page. Verification, sources, ABI, read forms
// and live capabilities come from /api/v1/contracts/{address}; reads go
// through /api/v1/contracts/{address}/call. Everything from the API is
// text: it reaches the page through textContent and attributes only.
(function () {
  'use strict';
  const bt = window.bt, sol = window.btSolidity;
  if (!bt || !sol) return;
  const { $, h, clear, api } = bt;
  const root = $('#contract');
  if (!root) return;
  const addr = root.dataset.address;
  const canCall = root.dataset.canCall === 'true';

  function addrLink(a, page) {
    return h('a', { class: 'mono', href: '/' + (page || 'address') + '/' + a, text: a });
  }

  function kv(rows) {
    return h('table', { class: 'kv' }, rows.filter(Boolean).map(([k, v]) => h('tr', {}, h('th', { text: k }), h('td', {}, v))));
  }

  function badge(status) {
    const b = $('#badge');
    const text = { full: 'full match', partial: 'partial match', none: 'not verified' }[status] || status;
    b.textContent = text;
    b.className = 'badge badge-' + (status || 'none');
    b.dataset.status = status;
    b.title = {
      full: 'The deployed code equals the verified build, metadata hash included',
      partial: 'The deployed code equals the verified build except for the metadata (comments, file names or settings that do not change the code)',
      none: 'No verified build matches this address',
    }[status] || '';
  }

  function params(list) {
    return (list || []).map((p) => p.type + (p.indexed ? ' indexed' : '') + (p.name ? ' ' + p.name : '')).join(', ');
  }

  function sigOf(f) { return f.name + '(' + (f.inputs || []).map(typeSig).join(',') + ')'; }
  function typeSig(p) {
    if (p.type.startsWith('tuple')) return '(' + (p.components || []).map(typeSig).join(',') + ')' + p.type.slice(5);
    return p.type;
  }

  function drawSettings(v) {
    const el = clear($('#settings'));
    if (!v) {
      el.append(h('p', { class: 'dim', text: 'No verified source for this address. Verify it with ' }),
        h('pre', { class: 'mono small', text: 'blocktorch verify ' + addr + ' path/to/out-or-build-info…' }));
      return;
    }
    const s = v.settings || {};
    const libs = Object.entries(v.libraries || {});
    el.append(kv([
      ['Contract', h('span', { class: 'mono', text: (v.sourceName || '') + ':' + (v.contractName || '') })],
      ['Compiler', h('span', { class: 'mono', text: s.compiler || '?' })],
      ['Optimizer', s.optimizer ? 'on, ' + s.runs + ' runs' : 'off'],
      ['EVM version', s.evmVersion || 'compiler default'],
      ['via-IR', s.viaIR ? 'yes' : 'no'],
      v.verified ? ['Verified', h('time', { id: 'verified-at', datetime: v.verified, text: new Date(v.verified).toLocaleString() })] : null,
      libs.length ? ['Libraries', h('div', {}, libs.map(([n, a]) => h('div', {}, n + ' ', addrLink(a, 'contract'))))] : null,
      v.immutables && Object.keys(v.immutables).length ? ['Immutables', Object.keys(v.immutables).length + ' found in the deployed code'] : null,
      v.chainMetadata ? ['On-chain metadata', h('span', { class: 'mono small wrap', text: 'solc ' + (v.chainMetadata.solc || '?') + (v.chainMetadata.hashKind ? ' · ' + v.chainMetadata.hashKind + ' ' + v.chainMetadata.hash : '') })] : null,
    ]));
    const m = v.mismatch;
    if (m) {
      const note = $('#verify-note');
      note.hidden = false;
      note.className = 'card verify-note';
      clear(note).append(h('strong', { text: v.status === 'partial' ? 'Partial match: ' : 'No match: ' }), m.reason);
      if (m.offset >= 0 && m.expected) note.append(h('div', { class: 'mono small', text: 'first difference at byte ' + m.offset + ': build has ' + m.expected + ', chain has ' + (m.actual || '?') }));
      if (m.causes && m.causes.length) note.append(h('ul', {}, m.causes.map((c) => h('li', { text: c }))));
    }
  }

  function drawCaps(p, impl) {
    const el = clear($('#caps'));
    if (p.capabilitiesError) { el.append(h('p', { class: 'bad', text: 'Cannot read the contract from the node: ' + p.capabilitiesError })); return; }
    const c = p.capabilities || {};
    const rows = [];
    if (c.proxy) {
      rows.push(['Proxy', h('span', { class: 'tag', text: c.proxy.kind })]);
      rows.push(['Implementation', h('span', {}, addrLink(c.proxy.implementation, 'contract'), impl && impl.verification ? h('span', { class: 'dim', text: ' ' + impl.verification.contractName + ' (' + impl.status + ')' }) : null)]);
      if (c.proxy.admin) rows.push(['Admin', addrLink(c.proxy.admin)]);
      if (c.proxy.beacon) rows.push(['Beacon', addrLink(c.proxy.beacon, 'contract')]);
    }
    if (c.ownable) rows.push(['Owner (Ownable)', addrLink(c.ownable.owner)]);
    if (c.pausable) rows.push(['Paused (Pausable)', c.pausable.paused ? h('span', { class: 'bad', id: 'paused', text: 'paused' }) : h('span', { class: 'ok', id: 'paused', text: 'not paused' })]);
    if (c.accessControl) {
      rows.push(['AccessControl', h('span', {}, 'roles by hasRole/getRoleAdmin · ',
        h('a', { href: '/explore?' + new URLSearchParams({ q: '(event:RoleGranted OR event:RoleRevoked) address:' + addr }).toString(), text: 'role grants and revocations' }))]);
    }
    if (!rows.length) { el.append(h('p', { class: 'dim', text: 'Not a proxy; no Ownable, Pausable or AccessControl interface detected.' })); return; }
    el.append(kv(rows));
  }

  function drawSources(v) {
    const el = $('#source'), tabs = clear($('#file-tabs'));
    if (!v || !v.sources || !Object.keys(v.sources).length) {
      clear(el).append(h('p', { class: 'empty', text: 'No verified source.' }));
      return;
    }
    const names = Object.keys(v.sources).sort((a, b) => (a === v.sourceName ? -1 : b === v.sourceName ? 1 : a.localeCompare(b)));
    const show = (name) => {
      for (const b of tabs.querySelectorAll('.tab')) b.classList.toggle('on', b.dataset.file === name);
      sol.render(el, v.sources[name]);
      el.dataset.file = name;
    };
    if (names.length > 6) {
      // Many files (a contract with its imports): a list, the contract's own file first.
      const sel = h('select', { 'aria-label': 'Source file', class: 'mono small' }, names.map((n) => h('option', { value: n, text: n })));
      sel.addEventListener('change', () => show(sel.value));
      tabs.append(h('span', { class: 'dim small', text: names.length + ' files' }), sel);
    } else {
      for (const n of names) {
        tabs.append(h('button', { type: 'button', class: 'ghost small tab', 'data-file': n, title: n, text: n.split('/').pop(), onclick: () => show(n) }));
      }
    }
    show(names[0]);
  }

  function drawABI(abi) {
    const el = clear($('#abi'));
    if (!abi || !abi.length) { el.append(h('p', { class: 'empty', text: 'No ABI known.' })); return; }
    const group = (title, type, fmt) => {
      const items = abi.filter((x) => x.type === type);
      if (!items.length) return;
      el.append(h('h3', { text: title + ' (' + items.length + ')' }),
        h('ul', { class: 'abi-list mono small' }, items.map((x) => h('li', {}, fmt(x)))));
    };
    group('Functions', 'function', (f) => [h('span', { class: 'tk-fn', text: f.name }), '(' + params(f.inputs) + ')',
      f.outputs && f.outputs.length ? ' returns (' + params(f.outputs) + ')' : '',
      ' ', h('span', { class: 'tag', text: f.stateMutability || '' })]);
    group('Events', 'event', (e) => [h('span', { class: 'tk-ev', text: e.name }), '(' + params(e.inputs) + ')']);
    group('Errors', 'error', (e) => [h('span', { class: 'tk-ev', text: e.name }), '(' + params(e.inputs) + ')']);
  }

  function valueNode(v) {
    if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object' && 'type' in x && 'value' in x)) {
      return h('div', { class: 'tuple' }, v.map((f) => h('div', {}, h('span', { class: 'dim', text: (f.name || '') + ' ' }), valueNode(f.value))));
    }
    if (typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v)) return addrLink(v);
    return h('span', { class: 'mono wrap', text: typeof v === 'object' ? JSON.stringify(v) : String(v) });
  }

  function drawRead(abi, abiAddress) {
    const el = clear($('#read'));
    const views = (abi || []).filter((x) => x.type === 'function' && (x.stateMutability === 'view' || x.stateMutability === 'pure' || x.constant));
    if (!canCall) { el.append(h('p', { class: 'dim', text: 'Reads need a node connection.' })); return; }
    if (!views.length) { el.append(h('p', { class: 'empty', text: 'No view functions in the ABI.' })); return; }
    const auto = [];
    for (const f of views) {
      const sig = sigOf(f);
      const inputs = (f.inputs || []).map((p, i) => h('input', { class: 'mono', placeholder: (p.name || 'arg' + i) + ' (' + p.type + ')', 'aria-label': (p.name || 'arg' + i) + ' ' + p.type, 'data-type': p.type }));
      const out = h('div', { class: 'read-out' });
      const run = async () => {
        clear(out).append(h('span', { class: 'dim', text: 'calling…' }));
        try {
          const res = await api('/api/v1/contracts/' + addr + '/call', { json: { function: sig, args: inputs.map((i) => i.value), abiAddress: abiAddress || undefined } });
          clear(out);
          if (res.revert) {
            out.append(h('div', { class: 'bad', text: 'reverted: ' + res.revert.reason }));
            return;
          }
          if (!res.outputs || !res.outputs.length) out.append(h('span', { class: 'dim', text: 'no return value' }));
          for (const o of res.outputs || []) {
            out.append(h('div', { class: 'read-val' }, h('span', { class: 'dim', text: (o.name || '') + ' ' + o.type + ' = ' }), valueNode(o.value)));
          }
        } catch (e) {
          clear(out).append(h('div', { class: 'bad', text: e.message }));
        }
      };
      const form = h('form', { class: 'read-fn', 'data-sig': sig, onsubmit: (e) => { e.preventDefault(); run(); } },
        h('div', { class: 'read-head' }, h('span', { class: 'mono tk-fn', text: f.name }), h('span', { class: 'mono dim small', text: '(' + params(f.inputs) + ')' }),
          h('div', { class: 'spacer' }), h('button', { type: 'submit', class: 'ghost small', text: 'Query' })),
        inputs.length ? h('div', { class: 'read-inputs' }, inputs) : null, out);
      el.append(form);
      if (!inputs.length && auto.length < 25) auto.push(run);
    }
    // Reads without arguments are answered at once, as a block explorer does.
    auto.forEach((r) => r());
  }

  async function start() {
    if (bt.respondPanel) bt.respondPanel(root.querySelector('.cols'), [addr]);
    let p;
    try { p = await api('/api/v1/contracts/' + addr); } catch (e) {
      badge('none');
      clear($('#settings')).append(h('p', { class: 'bad', text: e.message }));
      clear($('#caps'));
      clear($('#source')).append(h('p', { class: 'empty', text: 'No verified source.' }));
      let abi = null;
      try { abi = JSON.parse(root.dataset.abi || 'null'); } catch (err) { /* no ABI */ }
      drawABI(abi);
      drawRead(abi, null);
      return;
    }
    const v = p.verification;
    badge(p.status);
    if (p.codeChanged) {
      // A verification kept from before a chain reset: its sources are not what runs here.
      const note = $('#code-changed');
      note.hidden = false;
      clear(note).append(h('strong', { text: 'Code changed: ' }), p.codeChanged);
    }
    if (v && v.contractName && !root.dataset.name) $('#c-name').textContent = v.contractName;
    drawSettings(v);
    drawSources(v);
    let abi = v && v.abi, abiAddress = null, impl = null;
    if (!abi && root.dataset.abi) { try { abi = JSON.parse(root.dataset.abi); } catch (e) { abi = null; } }
    const proxy = p.capabilities && p.capabilities.proxy;
    if (proxy) {
      try {
        impl = await api('/api/v1/contracts/' + proxy.implementation);
        if (impl.verification && impl.verification.abi) { abi = impl.verification.abi; abiAddress = proxy.implementation; }
      } catch (e) { impl = null; }
    }
    drawCaps(p, impl);
    drawABI(abi);
    if (proxy && abiAddress) $('#read-note').textContent = 'view functions of the implementation, called through the proxy';
    drawRead(abi, abiAddress);
  }

  start();
})();
