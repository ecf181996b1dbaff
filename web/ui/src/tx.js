// tx.js: a transaction's page: the off-chain logs that mention it.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, clear, api, recordNode } = bt;

  async function txPage() {
    const el = $('#related');
    try {
      const d = await api('/api/v1/search?' + new URLSearchParams({ q: el.dataset.query, limit: 100 }).toString());
      clear(el);
      if (!(d.records || []).length) el.append(h('p', { class: 'empty', text: 'No off-chain log mentions this transaction.' }));
      for (const r of d.records || []) el.append(recordNode(r));
    } catch (e) { clear(el).append(h('p', { class: 'bad', text: e.message })); }
  }

  bt.ready(() => { if ($('#related')) txPage(); });
})();
