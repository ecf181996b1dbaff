// dashboards.js: the list of dashboards: create, import, delete.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, api } = bt;

  function dashboardsPage() {
    const err = $('#list-error');
    const fail = (e) => { err.hidden = false; err.textContent = e.message; };
    $('#new-dashboard').addEventListener('click', async () => {
      const name = prompt('Name of the new dashboard', 'My dashboard');
      if (!name) return;
      try {
        const d = await api('/api/v1/dashboards', { json: { name, spec: { from: 'now-1h', to: 'now', panels: [
          { title: 'Records by level', type: 'stacked', query: '* | timechart count() by level', width: 12, height: 2 }] } } });
        location.href = '/dashboards/' + encodeURIComponent(d.id) + '?edit=1';
      } catch (e) { fail(e); }
    });
    $('#import-dashboard').addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      try {
        const obj = JSON.parse(await file.text());
        const d = await api('/api/v1/dashboards', { json: { name: obj.name, spec: obj.spec } });
        location.href = '/dashboards/' + encodeURIComponent(d.id);
      } catch (e) { fail(e); }
    });
  }

  bt.onPage('dashboards', dashboardsPage);
})();
