// records.js: one search record (a log line, a transaction, an event) and
// its details, as Explore, a transaction's page and shared searches show
// them. Every value is attacker-controlled text; hashes and addresses
// become links only when they match their exact shape.
(function () {
  'use strict';
  const bt = window.bt;
  const { h, fmtTime, named, withNames, tokenDecimals, fmtUnits, amountKeyRe, epochTime, hashRe, addrRe } = bt;

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

  Object.assign(bt, { valueNode, flatten, recordNode });
})();
