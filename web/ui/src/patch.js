// patch.js: the patch check page. The form starts a check through POST
// /api/v1/patch-check (the build is read from the chosen files in the
// browser: a build-info file, or a solc standard-JSON input and output),
// then the page follows GET /api/v1/patch-check/{id}: its progress while
// it runs, then the report side by side (each transaction as mined and
// with the patch: still fails and where, now fails, now succeeds,
// unchanged, changed) and the prepared upgrade.
//
// A server may offer builds of its own (the demo's patched LendingVault):
// picking one fills the proxy, contract and deployment it is meant for,
// and the check uses it instead of an upload.
//
// The permalink is ?run=ID with the form's fields (target, contract, txs,
// sample, deployed, build): it shows the same report while the server keeps it,
// and the form filled for running it again. The incident and transaction
// pages link here with the fields filled.
//
// Revert reasons, source paths and contract names come from the chain or
// an uploaded build: they reach the page as text only.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { $, h, clear, api } = bt;

  const fields = ['target', 'contract', 'txs', 'sample', 'deployed'];
  const offered = () => $('#patch-offered');
  let polling = 0;

  function short(s) { return s && s.length > 14 ? s.slice(0, 10) + '…' + s.slice(-4) : s || ''; }

  function formState() {
    const st = {};
    for (const f of fields) st[f] = $('#patch-' + f).value.trim();
    st.build = offered() ? offered().value : '';
    return st;
  }

  function writeURL(run) {
    const q = new URLSearchParams();
    if (run) q.set('run', run);
    const st = formState();
    for (const f of fields) if (st[f] && !(f === 'sample' && st[f] === '20')) q.set(f, st[f]);
    if (st.build) q.set('build', st.build);
    const url = '/patch' + (q.toString() ? '?' + q : '');
    history.replaceState(null, '', url);
    $('#patch-permalink').setAttribute('href', url);
  }

  function showError(msg) {
    const box = $('#patch-error');
    box.textContent = msg;
    box.hidden = !msg;
  }

  function busy(text) {
    const b = $('#patch-busy');
    b.textContent = text || '';
    b.hidden = !text;
    $('#patch-run').disabled = !!text;
  }

  // readBuild reads the chosen files into the request's build fields.
  async function readBuild(files) {
    if (!files.length) throw new Error('choose the build of the new implementation: a build-info file, or a solc standard-JSON input and output');
    const docs = [];
    for (const f of files) {
      let j;
      try { j = JSON.parse(await f.text()); } catch (e) { throw new Error(f.name + ' is not JSON'); }
      docs.push([f.name, j]);
    }
    if (docs.length === 1) {
      const [name, j] = docs[0];
      if (j && j.input && j.output) return { buildInfo: j };
      if (j && j.input && !j.output) return { buildInfo: j }; // Hardhat 3: the server says what is missing
      throw new Error(name + ' is not a build-info file (input and output); for solc standard JSON choose its input and output together');
    }
    if (docs.length === 2) {
      const input = docs.find(([, j]) => j && j.language && j.sources);
      const output = docs.find(([, j]) => j && j.contracts);
      if (input && output && input !== output) return { input: input[1], output: output[1] };
    }
    throw new Error('choose one build-info file, or a solc standard-JSON input and output');
  }

  async function start(ev) {
    ev.preventDefault();
    showError('');
    const st = formState();
    const req = { target: st.target, contract: st.contract, txs: st.txs, sample: Number(st.sample || 0) };
    if (st.deployed) req.deployed = st.deployed;
    if (st.build) {
      req.build = st.build;
    } else {
      try {
        Object.assign(req, await readBuild($('#patch-build').files));
      } catch (e) {
        showError(e.message);
        return;
      }
    }
    busy('Starting…');
    try {
      const run = await api('/api/v1/patch-check', { json: req });
      writeURL(run.id);
      follow(run.id);
    } catch (e) {
      busy('');
      showError(e.message);
    }
  }

  // follow polls a run until it is done.
  async function follow(id) {
    const me = ++polling;
    for (;;) {
      let run;
      try {
        run = await api('/api/v1/patch-check/' + encodeURIComponent(id));
      } catch (e) {
        busy('');
        showError(e.message);
        return;
      }
      if (me !== polling) return;
      if (run.done) {
        busy('');
        if (run.error) showError(run.error);
        if (run.report) render(run.report);
        return;
      }
      const p = run.progress || {};
      busy((p.phase || 'starting') + (p.total ? ' ' + p.done + '/' + p.total : '') + '…');
      await new Promise((r) => setTimeout(r, 400));
    }
  }

  // sender says who may send the upgrade: the one account that may, or the
  // role it needs and its holders.
  function sender(u) {
    if (u.sender) return u.role ? u.sender + ' (' + u.role + ')' : u.sender;
    if (u.role === 'anyone') return 'anyone: a call from an account without any role succeeds';
    if (u.role) return 'a holder of ' + u.role + ((u.holders || []).length ? ': ' + u.holders.join(', ') : ' (none holds it now)');
    return 'the proxy\'s admin or owner';
  }

  function outcome(status, reason) {
    return status === 1 ? h('span', { class: 'ok', text: 'ok' }) : h('span', { class: 'err', text: 'fails' + (reason ? ': ' + reason : '') });
  }

  function render(r) {
    $('#patch-result').hidden = false;
    const s = r.summary;
    const sum = clear($('#patch-summary'));
    sum.appendChild(h('h2', { class: r.passed ? 'ok' : 'err', id: 'patch-verdict', text: r.passed ? 'Passes' : 'Does not pass' }));
    sum.appendChild(h('p', { id: 'patch-verdict-text', text: r.verdict + ' (took ' + r.took + ')' }));
    sum.appendChild(h('dl', { class: 'facts' },
      h('dt', { text: 'Target' }), h('dd', {}, h('a', { class: 'mono', href: '/contract/' + r.target, text: r.target }), ' (' + r.kind + (r.kind !== 'plain' ? ' proxy' : '') + ')'),
      h('dt', { text: 'New implementation' }), h('dd', {}, h('span', { class: 'mono', text: r.contract }), ' at ', h('span', { class: 'mono', text: r.implementation }),
        r.deployed ? ' (deployed, code verified)' : ' (simulated deployment, nothing sent)'),
      h('dt', { text: 'Storage layout' }), h('dd', { id: 'patch-layout', text: r.layout.checked ? r.layout.vars + ' variables keep their slots and types (old layout from ' + r.layout.from + ')' : r.layout.from }),
      h('dt', { text: 'Counts' }), h('dd', { text: s.nowFails + ' now fail · ' + s.stillFails + ' still fail · ' + s.nowSucceeds + ' now succeed · ' + s.unchanged + ' unchanged · ' + s.changed + ' changed · ' + s.errors + ' errors' })));

    const rows = (r.txs || []).map((t) => {
      const patched = [outcome(t.patched.status, t.patchedReason)];
      if (t.where) patched.push(' at ', h('span', { class: 'mono', text: t.where }));
      if (t.traceId) patched.push(' ', h('a', { href: '/debug/' + t.traceId, text: 'debug' }));
      const mined = t.verdict === 'error' ? h('span', { class: 'dim', text: '—' }) : outcome(t.mined.status, t.minedReason);
      return h('tr', { class: 'verdict-' + t.verdict, 'data-tx': t.tx },
        h('td', {}, h('a', { class: 'mono', href: '/tx/' + t.tx, title: t.tx, text: short(t.tx) })),
        h('td', { class: 'mono', text: String(t.block) }),
        h('td', { text: t.role }),
        h('td', {}, mined),
        h('td', {}, t.verdict === 'error' ? h('span', { class: 'err', text: t.error }) : patched),
        h('td', { class: 'verdict', text: t.verdict }),
        h('td', {}, (t.changes || []).length ? h('ul', { class: 'small' }, t.changes.map((c) => h('li', { text: c }))) : ''));
    });
    const table = clear($('#patch-txs-table'));
    table.appendChild(h('table', { class: 'grid-table', id: 'patch-table' },
      h('thead', {}, h('tr', {}, ['Transaction', 'Block', 'Role', 'As mined', 'With the patch', 'Verdict', 'Changes'].map((c) => h('th', { text: c })))),
      h('tbody', {}, rows)));

    const up = clear($('#patch-upgrade'));
    up.appendChild(h('h2', { text: 'Upgrade' }));
    if (!r.upgrade) {
      up.appendChild(h('p', { class: 'dim', id: 'patch-upgrade-note', text: r.upgradeNote || 'none' }));
      return;
    }
    const u = r.upgrade;
    const batch = JSON.stringify(u.safeBatch, null, 2);
    const blob = URL.createObjectURL(new Blob([batch], { type: 'application/json' }));
    up.appendChild(h('dl', { class: 'facts', id: 'patch-upgrade-call' },
      h('dt', { text: 'Kind' }), h('dd', { text: u.kind === 'transparent' ? 'transparent proxy: ProxyAdmin.upgradeAndCall' : 'UUPS: upgradeToAndCall on the proxy' }),
      h('dt', { text: 'Send from' }), h('dd', { class: 'mono', id: 'patch-sender', text: sender(u) }),
      h('dt', { text: 'To' }), h('dd', { class: 'mono', text: u.to }),
      h('dt', { text: 'Function' }), h('dd', { class: 'mono', text: u.function + ' ' + (u.args || []).join(' ') })));
    up.appendChild(h('h3', { text: 'Calldata' }));
    up.appendChild(h('pre', { class: 'mono wrap', id: 'patch-calldata', text: u.calldata }));
    up.appendChild(h('h3', { text: 'cast' }));
    up.appendChild(h('pre', { class: 'mono wrap', id: 'patch-cast', text: u.cast }));
    up.appendChild(h('h3', {}, 'Safe Transaction Builder batch ', h('a', { href: blob, download: 'upgrade-batch.json', text: 'download' })));
    up.appendChild(h('pre', { class: 'mono wrap', id: 'patch-safe', text: batch }));
  }

  bt.onPage('patch', () => {
    const q = new URLSearchParams(location.search);
    for (const f of fields) if (q.get(f)) $('#patch-' + f).value = q.get(f);
    const sel = offered();
    if (sel) {
      // Picking an offered build fills what it is meant for; the upload is
      // then not needed.
      const pick = (fill) => {
        const o = sel.selectedOptions[0];
        $('#patch-upload').hidden = !!sel.value;
        if (!fill || !sel.value) return;
        if (!$('#patch-target').value) $('#patch-target').value = o.dataset.target || '';
        if (!$('#patch-contract').value) $('#patch-contract').value = o.dataset.contract || '';
        if (!$('#patch-deployed').value && $('#patch-target').value.toLowerCase() === (o.dataset.target || '').toLowerCase()) $('#patch-deployed').value = o.dataset.deployed || '';
      };
      if (q.get('build')) sel.value = q.get('build');
      pick(false);
      sel.addEventListener('change', () => pick(true));
    }
    $('#patch-permalink').setAttribute('href', location.pathname + location.search);
    $('#patch-form').addEventListener('submit', start);
    if (q.get('run')) follow(q.get('run'));
  });
})();
