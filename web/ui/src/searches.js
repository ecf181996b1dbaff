// searches.js: the saved searches: open, share, delete.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, api, sharePanel } = bt;

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

  bt.onPage('searches', searchesPage);
})();
