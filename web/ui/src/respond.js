// respond.js: the Respond panel of contract and incident pages. For a
// watched contract it lists the emergency actions (GET
// /api/v1/respond/contracts/{address}/actions) with the role each needs and
// who holds it now; for the chosen action it takes the arguments, prepares
// it (the simulation on the head state and the four forms: calldata, a
// `cast send` line, a Safe Transaction Builder JSON to download, the
// transaction signed by the server's signer), sends it from the signer
// (refused when the simulation reverts unless forced, after a confirm),
// proposes it to the Safe, collects owners' signatures and executes it at
// the threshold; and it shows the contract's run history. The chosen
// contract, action, arguments and whether it was prepared are in the URL
// (?action=pause&prepare=1), so the view is a permalink. Everything shown
// comes from the chain or from people (names, revert reasons, event
// arguments, the URL itself): it reaches the page through textContent and
// attributes only.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { h, clear, api, fmtTime, named } = bt;

  function errorText(e) { return e && e.message ? e.message : String(e); }
  // put appends the children that are there (append writes null as text).
  function put(el, ...kids) { el.append(...kids.flat().filter((k) => k != null && k !== false)); return el; }

  // The panel's URL parameters; the page's own are left as they are.
  function readURL() {
    const p = new URLSearchParams(location.search);
    return { contract: p.get('contract') || '', action: p.get('action') || '', args: p.getAll('arg'), prepare: p.get('prepare') === '1' };
  }
  function writeURL(st) {
    const p = new URLSearchParams(location.search);
    for (const k of ['contract', 'action', 'arg', 'prepare']) p.delete(k);
    if (st.contract) p.set('contract', st.contract);
    if (st.action) p.set('action', st.action);
    for (const a of st.args || []) p.append('arg', a);
    if (st.prepare) p.set('prepare', '1');
    const q = p.toString();
    const url = location.pathname + (q ? '?' + q : '') + location.hash;
    if (url !== location.pathname + location.search + location.hash) history.replaceState(history.state, '', url);
  }

  const same = (a, b) => String(a || '').toLowerCase() === String(b || '').toLowerCase();
  // shortID is an action's id without its contract's address.
  function shortID(a) { return a.id.slice(a.contract.length + 1); }
  function fnName(a) { return a.function.split('(')[0]; }
  // urlName is how the URL names an action: its function's name when no
  // other action of the contract has it, else its id without the address.
  function urlName(a, all) {
    const n = fnName(a);
    return all.filter((x) => fnName(x) === n).length === 1 ? n : shortID(a);
  }
  // findAction reads the URL's name as the server's Resolve does: an id,
  // a signature, a function name, a kind.
  function findAction(all, name) {
    if (!name) return null;
    for (const match of [(a) => same(shortID(a), name) || same(a.id, name), (a) => a.function === name, (a) => fnName(a) === name, (a) => a.kind === name]) {
      const found = all.filter(match);
      if (found.length === 1) return found[0];
      if (found.length > 1) return null;
    }
    return null;
  }

  function addrLink(a, page) { return named(h('a', { class: 'mono', href: '/' + (page || 'address') + '/' + a, text: a }), a); }
  function txLink(hash) { return h('a', { class: 'mono', href: '/tx/' + hash, text: hash }); }
  function copyButton(text) {
    return h('button', { type: 'button', class: 'ghost small', text: 'Copy', onclick: () => navigator.clipboard && navigator.clipboard.writeText(text) });
  }
  function eth(weiHex) {
    try {
      const w = BigInt(weiHex);
      return bt.fmtUnits(w.toString(), 18) + ' ETH';
    } catch (e) { return String(weiHex); }
  }
  const zeroHash = '0x' + '0'.repeat(64);

  // respondPanel mounts the Respond panel after the element after, for the
  // contracts at addresses (the first is shown; a list chooses another).
  // onChange runs after anything was sent (the incident page reloads its
  // timeline).
  function respondPanel(after, addresses, onChange) {
    if (!after || !addresses || !addresses.length || document.querySelector('#respond')) return;
    const st = readURL();
    if (!addresses.some((a) => same(a, st.contract))) st.contract = '';
    const card = h('section', { class: 'card', id: 'respond' });
    after.after(card);
    const signerBox = h('div', { id: 'respond-signer', class: 'small' });
    const picker = addresses.length > 1 ? h('select', { id: 'respond-contract', 'aria-label': 'Contract', class: 'mono small' },
      addresses.map((a) => named(h('option', { value: a, text: a }), a))) : null;
    const actionsBox = h('div', { id: 'respond-actions' }, h('p', { class: 'empty', text: 'Reading the emergency actions from the chain…' }));
    const detail = h('div', { id: 'respond-detail' });
    const safeBox = h('div', { id: 'respond-safe' });
    const scenariosBox = h('div', { id: 'respond-scenarios' });
    const history = h('div', { id: 'respond-history' });
    put(card,
      h('div', { class: 'card-head' }, h('h2', { text: 'Respond' }),
        h('span', { class: 'dim small', text: 'emergency actions, each simulated on the head state before anything is sent' })),
      signerBox, picker ? h('div', { class: 'row' }, h('span', { class: 'dim small', text: 'Affected contract' }), picker) : null,
      actionsBox, detail, safeBox, scenariosBox, h('h3', { text: 'Run history' }), history);

    let status = null; // the signer and the Safe
    let actions = [];
    let addr = st.contract || addresses[0];
    if (picker) {
      picker.value = addresses.find((a) => same(a, addr)) || addresses[0];
      picker.addEventListener('change', () => {
        addr = picker.value;
        Object.assign(st, { contract: addr, action: '', args: [], prepare: false });
        writeURL(st);
        loadContract().catch(() => {});
      });
    }

    function drawSigner() {
      clear(signerBox);
      if (status.kind === 'eoa') {
        put(signerBox, h('span', { class: 'dim', text: 'Sends are signed by ' }), h('span', { class: 'mono', text: status.signer || status.address }),
          status.balance ? h('span', { class: 'dim', text: ' · balance ' + eth(status.balance) }) : null,
          status.error ? h('span', { class: 'bad', text: ' · ' + status.error }) : null);
      } else {
        signerBox.append(h('span', { class: 'dim', id: 'respond-no-signer', text: 'No signer is configured: prepare an action and send it with its calldata, cast line or Safe JSON, or start blocktorch with --signer-keystore FILE (or BLOCKTORCH_SIGNER_KEY) to send from here.' }));
      }
    }

    function holderTag(a) {
      if (status && status.address && same(a, status.address)) return h('span', { class: 'tag', text: 'signer' });
      if (status && status.safe && same(a, status.safe.address)) return h('span', { class: 'tag', text: 'Safe' });
      return null;
    }

    function drawActions() {
      clear(actionsBox);
      if (!actions.length) { actionsBox.append(h('p', { class: 'empty', text: 'No emergency function found: no pause()/unpause(), role revocation or block-list function, and none marked as emergency.' })); return; }
      const rows = actions.map((a) => {
        const name = urlName(a, actions);
        const role = a.role || {};
        return h('tr', { 'data-action': name, 'data-kind': a.kind, class: st.action && findAction(actions, st.action) === a ? 'on' : '' },
          h('td', {}, h('span', { class: 'mono tk-fn', text: a.function }), ' ', h('span', { class: 'tag', text: a.kind }),
            (a.args && a.args.length) ? h('div', { class: 'mono small dim wrap', text: a.args.join(', ') }) : null,
            h('div', { class: 'small dim', text: a.summary || '' })),
          h('td', { class: 'respond-role', title: role.reason || '' }, h('span', { class: 'mono', text: role.name || '?' }), h('div', { class: 'small dim', text: role.kind || '' })),
          h('td', { class: 'respond-holders' }, (role.holders || []).length
            ? role.holders.map((x) => h('div', {}, addrLink(x), ' ', holderTag(x)))
            : h('span', { class: 'dim small', text: role.kind === 'anyone' ? 'anyone may call it' : 'nobody holds it' })),
          h('td', { class: 'small', text: a.state || '' }),
          h('td', { class: 'actions' }, h('button', { type: 'button', class: 'small respond-open', text: 'Open', onclick: () => choose(a) })));
      });
      actionsBox.append(h('table', { class: 'grid-table', id: 'respond-actions-table' },
        h('thead', {}, h('tr', {}, ['Action', 'Who may call it', 'Holders now', 'State', ''].map((t) => h('th', { text: t })))),
        h('tbody', {}, rows)));
    }

    function choose(a) {
      Object.assign(st, { contract: picker ? addr : '', action: urlName(a, actions), args: [], prepare: false });
      writeURL(st);
      drawActions();
      drawDetail(a);
    }

    // ---------- one action ----------

    function simView(sim) {
      if (!sim) return null;
      const head = sim.reverted
        ? h('div', {}, h('strong', { class: 'bad', text: 'The simulation reverts: ' }), h('span', { class: 'wrap', text: sim.reason || 'no reason given' }))
        : h('div', {}, h('strong', { class: 'ok', text: 'The simulation succeeds' }));
      const box = h('div', { id: 'respond-sim', class: sim.reverted ? 'revert' : 'respond-ok', 'data-reverted': String(!!sim.reverted) }, head,
        h('div', { class: 'small dim' }, 'on the state of block ' + sim.block + ' · gas ' + sim.gasUsed + ' · ',
          sim.traceId && sim.traceId !== zeroHash ? h('a', { href: '/debug/' + sim.traceId, text: 'step through it in the debugger' }) : null));
      const events = sim.events || [];
      box.append(h('h4', { text: 'Events (' + events.length + ')' }),
        events.length ? h('ul', { id: 'respond-events', class: 'mono small' }, events.map((e) => h('li', { 'data-event': e.name || '' },
          h('strong', { text: e.name || '?' }), '(' + (e.args || []).map((x) => (x.name ? x.name + '=' : '') + x.value).join(', ') + ') at ', addrLink(e.address, 'contract'),
          e.reverted ? h('span', { class: 'tag', text: 'reverted' }) : null)))
          : h('p', { class: 'dim small', text: 'No events.' }));
      const changes = sim.changes || [];
      box.append(h('h4', { text: 'Storage written (' + changes.length + ')' }),
        changes.length ? h('table', { class: 'grid-table small', id: 'respond-changes' },
          h('thead', {}, h('tr', {}, ['Contract', 'Slot', 'Before', 'After'].map((t) => h('th', { text: t })))),
          h('tbody', {}, changes.map((c) => h('tr', {}, h('td', {}, addrLink(c.address, 'contract')),
            h('td', { class: 'mono wrap', text: c.label || c.slot }), h('td', { class: 'mono wrap', text: c.before }), h('td', { class: 'mono wrap', text: c.after })))))
          : h('p', { class: 'dim small', text: 'No storage written.' }));
      return box;
    }

    function form(title, id, text, extra) {
      return h('div', { class: 'respond-form' }, h('div', { class: 'row' }, h('h4', { text: title }), h('div', { class: 'spacer' }), extra || null, copyButton(text)),
        h('pre', { id, class: 'mono small wrap', text }));
    }

    function preparedView(p, a) {
      const safeJSON = JSON.stringify(p.safeBatch, null, 2);
      const file = ((a.contractName || a.contract) + '-' + fnName(a)).replace(/[^A-Za-z0-9._-]+/g, '-') + '.json';
      const download = h('a', { class: 'button ghost small', id: 'respond-safe-download', download: file, text: 'Download',
        href: 'data:application/json;charset=utf-8,' + encodeURIComponent(safeJSON) });
      const signed = p.signed
        ? form('Signed transaction (cast publish)', 'respond-signed', p.signed.raw)
        : h('div', { class: 'respond-form' }, h('h4', { text: 'Signed transaction' }), h('p', { class: 'dim small', id: 'respond-signed-none', text: 'No signer is configured: nothing is signed here.' }));
      const out = h('div', { id: 'respond-prepared' },
        h('p', { class: 'small dim' }, 'Simulated as a call from ', addrLink(p.simulatedFrom), ' to ', addrLink(p.to, 'contract'), '.'),
        simView(p.simulation),
        h('h3', { text: 'Four ways to send it' }),
        form('Raw calldata (to ' + p.to + ')', 'respond-calldata', p.calldata),
        form('cast send (add your wallet option)', 'respond-cast', p.cast),
        form('Safe Transaction Builder JSON', 'respond-safe-json', safeJSON, download),
        signed);
      if (p.signed) {
        out.querySelector('#respond-signed').after(h('p', { class: 'small dim' }, 'hash ', h('span', { class: 'mono', text: p.signed.hash }),
          ' · from ', h('span', { class: 'mono', text: p.signed.from }), ' · nonce ' + p.signed.nonce + ' · gas ' + p.signed.gas));
      }
      return out;
    }

    function sentView(s, err) {
      const box = h('div', { id: 'respond-sent', class: err ? 'revert' : 'respond-ok', 'data-mined': String(!!(s && s.mined)), 'data-status': s ? String(s.status) : '' });
      if (err) box.append(h('div', { class: 'bad wrap', text: errorText(err) }));
      if (s && s.hash && s.hash !== zeroHash) {
        box.append(h('div', {}, 'Transaction ', txLink(s.hash), s.mined ? ' mined in block ' + s.block + (s.status === 1 ? ', succeeded' : ', failed') : ' sent, not mined yet'));
      }
      if (s && s.run) box.append(h('div', { class: 'small dim', text: 'Recorded as run #' + s.run + ' in the history below.' }));
      if (err && s && s.simulation) box.append(simView(s.simulation));
      return box;
    }

    function drawDetail(a) {
      clear(detail);
      if (!a) return;
      detail.dataset.action = urlName(a, actions);
      const template = !(a.args && a.args.length) && (a.inputs || []).length > 0;
      const inputs = template ? a.inputs.map((inp, i) => h('input', { class: 'mono grow', name: 'arg' + i, 'data-type': inp.type, 'aria-label': inp.name + ' ' + inp.type,
        placeholder: inp.name + ' (' + inp.type + ')', value: st.args[i] || '' })) : [];
      const args = () => inputs.map((i) => i.value.trim());
      const force = h('input', { type: 'checkbox', id: 'respond-force' });
      const noSigner = !status || status.kind !== 'eoa';
      const sendBtn = h('button', { type: 'button', class: 'primary', id: 'respond-send', text: 'Send', disabled: noSigner,
        title: noSigner ? 'No signer is configured on the server' : 'Simulate, then send from ' + status.address });
      const prepareBtn = h('button', { type: 'button', id: 'respond-prepare', text: 'Prepare' });
      const proposeBtn = status && status.safe && !status.safe.error ? h('button', { type: 'button', id: 'respond-propose', text: 'Propose to the Safe' }) : null;
      const result = h('div', { id: 'respond-result' });
      const preparedBox = h('div', {});
      let last = null; // the last preparation and the arguments it had
      put(detail, h('h3', {}, h('span', { class: 'mono', text: a.function }), ' on ', addrLink(a.contract, 'contract')),
        h('p', { class: 'small dim', text: a.summary || '' }),
        template ? h('div', { class: 'row', id: 'respond-args' }, inputs) : null,
        (a.args && a.args.length) ? h('p', { class: 'small' }, 'Arguments: ', h('span', { class: 'mono wrap', text: a.args.join(', ') })) : null,
        h('div', { class: 'row' }, prepareBtn, sendBtn,
          h('label', { class: 'toggle', for: 'respond-force' }, force, 'force: send even if the simulation reverts'), proposeBtn),
        noSigner ? h('p', { class: 'small dim', id: 'respond-send-reason', text: 'Send is off: no signer is configured on the server.' }) : null,
        result, preparedBox);
      for (const i of inputs) i.addEventListener('input', () => { st.args = args(); st.prepare = false; writeURL(st); });

      async function prepare() {
        clear(result);
        clear(preparedBox).append(h('p', { class: 'dim', text: 'Simulating…' }));
        const given = args();
        try {
          const p = await api('/api/v1/respond/contracts/' + a.contract + '/prepare', { json: { action: a.id, args: given } });
          last = { p, args: given.join('\n') };
          st.args = given; st.prepare = true; writeURL(st);
          clear(preparedBox).append(preparedView(p, a));
        } catch (e) {
          clear(preparedBox).append(h('p', { class: 'error-box', id: 'respond-error', text: errorText(e) }));
        }
      }

      async function send() {
        clear(result);
        const given = args();
        const sim = last && last.args === given.join('\n') ? last.p.simulation : null;
        if (sim && sim.reverted && !force.checked) {
          result.append(h('p', { class: 'error-box', id: 'respond-error', text: 'Not sent: the simulation reverts (' + (sim.reason || 'no reason') + '). Tick force to send anyway.' }));
          return;
        }
        if (force.checked && !confirm('Send ' + a.function + ' to ' + a.contract + ' even if its simulation reverts? It is sent and may fail on chain, paying its gas.')) return;
        sendBtn.disabled = true;
        result.append(h('p', { class: 'dim', text: 'Simulating, sending and waiting for the receipt…' }));
        try {
          const s = await api('/api/v1/respond/contracts/' + a.contract + '/send', { json: { action: a.id, args: given, force: force.checked } });
          clear(result).append(sentView(s, null));
        } catch (e) {
          clear(result).append(sentView(e.body && e.body.data, e));
        } finally {
          sendBtn.disabled = noSigner;
        }
        await refresh();
      }

      async function propose() {
        clear(result);
        try {
          const p = await api('/api/v1/respond/contracts/' + a.contract + '/propose', { json: { action: a.id, args: args() } });
          result.append(h('div', { id: 'respond-proposed', class: p.simulation && p.simulation.reverted ? 'revert' : 'respond-ok' },
            h('div', {}, 'Proposed to the Safe as SafeTx ', h('span', { class: 'mono wrap', text: p.hash }), '. Each owner signs it with their own wallet:'),
            h('pre', { class: 'mono small', text: 'cast wallet sign --no-hash ' + p.hash }),
            h('div', { class: 'small dim', text: 'then pastes the signature under the Safe below.' }),
            simView(p.simulation)));
          await drawSafe();
        } catch (e) { result.append(h('p', { class: 'error-box', id: 'respond-error', text: errorText(e) })); }
      }

      prepareBtn.addEventListener('click', prepare);
      sendBtn.addEventListener('click', send);
      if (proposeBtn) proposeBtn.addEventListener('click', propose);
      if (st.prepare) prepare();
    }

    // ---------- the Safe ----------

    async function drawSafe() {
      clear(safeBox);
      const safe = status && status.safe;
      if (!safe) return;
      safeBox.append(h('h3', { text: 'Safe' }));
      if (safe.error) { safeBox.append(h('p', { class: 'bad', text: safe.error })); return; }
      safeBox.append(h('table', { class: 'kv', id: 'respond-safe-status' },
        h('tr', {}, h('th', { text: 'Address' }), h('td', {}, addrLink(safe.address))),
        h('tr', {}, h('th', { text: 'Owners' }), h('td', {}, (safe.owners || []).map((o) => h('div', {}, addrLink(o))))),
        h('tr', {}, h('th', { text: 'Threshold' }), h('td', { id: 'respond-safe-threshold', text: safe.threshold + ' of ' + (safe.owners || []).length })),
        h('tr', {}, h('th', { text: 'Nonce' }), h('td', { text: String(safe.nonce) }))));
      let props = [];
      try { props = await api('/api/v1/respond/safe/proposals'); } catch (e) { safeBox.append(h('p', { class: 'bad', text: errorText(e) })); return; }
      props = (props || []).filter((p) => addresses.some((x) => same(x, p.to)));
      if (!props.length) { safeBox.append(h('p', { class: 'dim small', text: 'No proposed Safe transaction for this contract.' })); return; }
      // Every open proposal; of those done with (executed, or passed by
      // the Safe's nonce), the newest few: they are kept for good.
      const done = (p) => (p.executed && p.executed !== zeroHash) || safe.nonce > p.nonce;
      const closed = props.filter(done);
      const shown = props.filter((p) => !done(p)).concat(closed.slice(0, 3));
      safeBox.append(h('h4', { text: 'Proposed transactions' }), h('div', { id: 'respond-proposals', class: 'stack' }, shown.map(proposalView)),
        closed.length > 3 ? h('p', { class: 'small dim', text: (closed.length - 3) + ' older executed or stale proposals are not shown.' }) : '');
    }

    function proposalView(p) {
      const signed = (p.signatures || []).length;
      const executed = p.executed && p.executed !== zeroHash;
      const stale = status.safe && status.safe.nonce > p.nonce && !executed;
      const sig = h('input', { class: 'mono grow', name: 'signature', placeholder: '0x… an owner\'s signature of the SafeTx hash', 'aria-label': 'Owner signature' });
      const err = h('p', { class: 'bad small', hidden: true });
      const fail = (e) => { err.hidden = false; err.textContent = errorText(e); };
      const canExec = !executed && !stale && signed >= p.threshold && status.kind === 'eoa';
      return h('div', { class: 'respond-proposal', 'data-hash': p.hash, 'data-signatures': String(signed) },
        h('div', {}, h('span', { class: 'mono', text: p.action.function }), ' on ', addrLink(p.to, 'contract'), ' · nonce ' + p.nonce + ' · ',
          h('strong', { class: signed >= p.threshold ? 'ok' : '', text: signed + ' of ' + p.threshold + ' signatures' }),
          executed ? h('span', {}, ' · executed by ', txLink(p.executed)) : null, stale ? h('span', { class: 'bad', text: ' · stale: the Safe moved past its nonce' }) : null),
        h('div', { class: 'small dim' }, 'SafeTx ', h('span', { class: 'mono wrap', text: p.hash })),
        (p.signatures || []).length ? h('ul', { class: 'small' }, p.signatures.map((s) => h('li', {}, 'signed by ', addrLink(s.owner)))) : null,
        executed ? null : h('div', { class: 'row' }, sig,
          h('button', { type: 'button', class: 'small respond-sign', text: 'Add signature', onclick: async () => {
            try { await api('/api/v1/respond/safe/proposals/' + p.hash + '/signatures', { json: { signature: sig.value.trim() } }); await drawSafe(); } catch (e) { fail(e); }
          } }),
          h('button', { type: 'button', class: 'small primary respond-execute', text: 'Execute', disabled: !canExec,
            title: canExec ? 'execTransaction from the signer' : (status.kind !== 'eoa' ? 'No signer is configured to pay for execTransaction' : 'Needs ' + p.threshold + ' owner signatures'),
            onclick: async (ev) => {
              ev.target.disabled = true;
              try {
                const s = await api('/api/v1/respond/safe/proposals/' + p.hash + '/execute', { json: { force: false } });
                err.after(sentView(s, null));
              } catch (e) { fail(e); }
              await refresh();
            } })),
        err);
    }

    // ---------- scenarios ----------

    async function drawScenarios() {
      let sc;
      try { sc = await api('/api/v1/respond/scenarios'); } catch (e) {
        clear(scenariosBox).append(h('p', { class: 'bad', text: errorText(e) }));
        return;
      }
      clear(scenariosBox);
      scenariosBox.dataset.automation = String(!!sc.automation);
      if (!(sc.scenarios || []).length) return;
      const auto = h('input', { type: 'checkbox', id: 'respond-automation', checked: !!sc.automation });
      const out = h('div', { id: 'respond-scenario-result' });
      auto.addEventListener('change', async () => {
        try { await api('/api/v1/respond/automation', { method: 'PUT', json: { enabled: auto.checked } }); } catch (e) {
          clear(out).append(h('p', { class: 'error-box', text: errorText(e) }));
        }
        await drawScenarios();
      });
      const noSigner = !status || status.kind !== 'eoa';
      const runIt = async (s, dryRun) => {
        if (!dryRun && !confirm('Run scenario ' + s.name + ' now? Each of its ' + s.actions.length + ' actions is simulated, then sent.')) return;
        clear(out).append(h('p', { class: 'dim', text: (dryRun ? 'Simulating' : 'Running') + ' scenario ' + s.name + '…' }));
        let run, err = null;
        try { run = await api('/api/v1/respond/scenarios/' + encodeURIComponent(s.name) + '/run', { json: { dryRun } }); } catch (e) { err = e; run = e.body && e.body.data; }
        clear(out).append(h('div', { class: err ? 'revert' : 'respond-ok', 'data-scenario': s.name, 'data-status': run ? run.status : '' },
          h('div', {}, 'Scenario ', h('span', { class: 'mono', text: s.name }), ': ', h('strong', { text: run ? run.status : 'not run' }), run && run.id ? ' (run #' + run.id + ')' : ''),
          err ? h('div', { class: 'bad wrap', text: errorText(err) }) : null,
          run ? (run.steps || []).map((st) => h('div', { class: 'small' }, h('span', { class: 'mono', text: st.function || st.action }),
            st.hash ? h('span', {}, ' ', txLink(st.hash)) : null,
            st.simulation ? h('span', { class: st.simulation.reverted ? 'bad' : 'ok', text: st.simulation.reverted ? ' would revert: ' + (st.simulation.reason || '') : ' simulation succeeds' }) : null)) : null));
        await refresh();
      };
      put(scenariosBox, h('h3', { text: 'Scenarios' }),
        h('label', { class: 'toggle', for: 'respond-automation' }, auto, ' automation: a monitor\'s firing runs its scenarios (off: the kill switch; runs by hand still work)'),
        h('table', { class: 'grid-table', id: 'respond-scenario-list' },
          h('thead', {}, h('tr', {}, ['Scenario', 'Actions', 'Run by', ''].map((t) => h('th', { text: t })))),
          h('tbody', {}, sc.scenarios.map((s) => h('tr', { 'data-scenario': s.name },
            h('td', {}, h('span', { class: 'mono', text: s.name }), s.dryRun ? h('span', { class: 'tag', text: 'dry run only' }) : null,
              s.description ? h('div', { class: 'small dim', text: s.description }) : null,
              s.cooldown && s.cooldown !== '0s' ? h('div', { class: 'small dim', text: 'cooldown ' + s.cooldown }) : null),
            h('td', { class: 'small mono' }, (s.actions || []).map((a) => h('div', { text: a.action + ' on ' + a.contract + ((a.args || []).length ? ' (' + a.args.join(', ') + ')' : '') }))),
            h('td', { class: 'small mono', text: (s.monitors || []).length ? s.monitors.join(', ') : 'hand, or a monitor naming it (respond:)' }),
            h('td', { class: 'actions' },
              h('button', { type: 'button', class: 'small respond-dry', text: 'Dry run', onclick: () => runIt(s, true) }), ' ',
              h('button', { type: 'button', class: 'small primary respond-run', text: 'Run', disabled: noSigner || s.dryRun,
                title: noSigner ? 'No signer is configured on the server' : 'Simulate, then send each action', onclick: () => runIt(s, false) })))))),
        out);
    }

    // ---------- history ----------

    async function drawHistory() {
      let runs;
      try { runs = await api('/api/v1/respond/runs?limit=20&contract=' + encodeURIComponent(addr)); } catch (e) {
        clear(history).append(h('p', { class: 'bad', text: errorText(e) }));
        return;
      }
      clear(history);
      if (!runs.length) { history.append(h('p', { class: 'empty', text: 'Nothing was sent or run for this contract yet.' })); return; }
      history.append(h('table', { class: 'grid-table', id: 'respond-runs' },
        h('thead', {}, h('tr', {}, ['Run', 'Started', 'By', 'Status', 'Actions'].map((t) => h('th', { text: t })))),
        h('tbody', {}, runs.map((r) => h('tr', { 'data-run': String(r.id), 'data-status': r.status, class: r.status === 'failed' ? 'failed' : '' },
          h('td', {}, '#' + r.id, r.scenario ? h('div', { class: 'small mono', text: r.scenario }) : null, r.dryRun ? h('span', { class: 'tag', text: 'dry run' }) : null),
          h('td', { class: 'small nowrap', title: r.started, text: fmtTime(Date.parse(r.started)) }),
          h('td', { class: 'small mono', text: r.trigger }),
          h('td', {}, h('span', { class: r.status === 'done' || r.status === 'simulated' ? 'ok' : r.status === 'failed' ? 'bad' : 'dim', text: r.status })),
          h('td', { class: 'small' }, (r.steps || []).map((s) => h('div', {}, h('span', { class: 'mono', text: s.function || s.action }),
            s.safeTxHash ? h('span', { class: 'dim', text: ' via the Safe' }) : null,
            s.hash ? h('span', {}, ' ', txLink(s.hash)) : null,
            s.error ? h('div', { class: 'bad wrap', text: s.error }) : null)),
          r.error && !(r.steps || []).some((s) => s.error) ? h('div', { class: 'bad wrap', text: r.error }) : null))))));
    }

    // ---------- loading ----------

    async function loadContract() {
      try {
        actions = await api('/api/v1/respond/contracts/' + addr + '/actions');
      } catch (e) {
        actions = [];
        clear(actionsBox).append(h('p', { class: e.status === 404 ? 'dim' : 'bad', id: 'respond-error', text: errorText(e) }));
        clear(detail);
        await drawHistory();
        return;
      }
      drawActions();
      const a = findAction(actions, st.action);
      if (st.action && !a) {
        clear(detail).append(h('p', { class: 'bad', id: 'respond-unknown', text: 'No single emergency action of this contract is named “' + st.action + '”.' }));
      } else {
        drawDetail(a);
      }
      await Promise.all([drawSafe(), drawScenarios(), drawHistory()]);
    }

    // refresh reads again what a send changes: the actions' state, the
    // Safe and the history; the detail stays as it is.
    async function refresh() {
      try {
        status = await api('/api/v1/respond/status');
        actions = await api('/api/v1/respond/contracts/' + addr + '/actions');
        drawSigner();
        drawActions();
      } catch (e) { /* the next load shows it */ }
      await Promise.all([drawSafe(), drawHistory()]);
      card.dataset.updated = String(Date.now());
      if (onChange) onChange();
    }

    (async () => {
      try {
        status = await api('/api/v1/respond/status');
      } catch (e) {
        clear(actionsBox).append(h('p', { class: 'dim', id: 'respond-off', text: e.status === 404 ? 'Response actions need a node connection.' : errorText(e) }));
        return;
      }
      drawSigner();
      await loadContract();
      card.dataset.ready = 'true';
    })();
  }

  Object.assign(bt, { respondPanel });
})();
