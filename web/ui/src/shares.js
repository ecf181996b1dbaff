// shares.js: the share links: list and revoke.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, clear, api, fmtTime } = bt;

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

  bt.onPage('shares', sharesPage);
})();
