// killswitches.js: the kill switches card of the incident pages. It lists
// the flags dApp front ends read (GET /api/v1/flags), switches them on and
// off, restores one gradually for a percentage of users, and adds or
// deletes one (PUT/DELETE /api/v1/flags/{deployment}/{name}). Each change
// is audited and written on the open incident's timeline by the server.
// Everything from the API is text: it reaches the page through
// textContent and attributes only.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { $, h, clear, api, fmtTime } = bt;

  function errorText(e) { return e && e.message ? e.message : String(e); }
  function flagURL(f) { return '/api/v1/flags/' + encodeURIComponent(f.deployment) + '/' + encodeURIComponent(f.name); }
  function stateText(f) {
    if (!f.enabled) return 'off';
    return f.percent < 100 ? 'on for ' + f.percent + '%' : 'on';
  }

  // killSwitches fills the card; onChange runs after each change (the
  // incident page reloads its timeline).
  function killSwitches(onChange) {
    const card = $('#flags');
    if (!card) return;
    const err = $('#flag-error');
    function fail(e) { err.hidden = false; err.textContent = errorText(e); }

    async function set(f, enabled, percent) {
      err.hidden = true;
      try {
        await api(flagURL(f), { method: 'PUT', json: { enabled, percent, description: f.description || '' } });
        await load();
        if (onChange) onChange();
      } catch (e) { fail(e); }
    }

    async function load() {
      const tb = clear($('#flag-list tbody'));
      const flags = await api('/api/v1/flags');
      if (!flags.length) { tb.append(h('tr', {}, h('td', { colspan: 6, class: 'empty', text: 'No kill switches yet.' }))); return; }
      for (const f of flags) {
        const pct = h('input', { type: 'number', min: 1, max: 100, value: f.enabled ? f.percent : 10, class: 'pct', 'aria-label': 'Percent of users' });
        tb.append(h('tr', { 'data-flag': f.deployment + '/' + f.name, class: f.enabled ? '' : 'flag-off' },
          h('td', { class: 'mono small', text: f.deployment }),
          h('td', { class: 'mono', text: f.name }),
          h('td', {}, h('span', { class: 'state ' + (f.enabled ? 'state-ok' : 'state-firing'), text: stateText(f) })),
          h('td', { class: 'small', text: f.description || '' }),
          h('td', { class: 'small dim', title: f.updatedBy || '', text: fmtTime(Date.parse(f.updated)) + (f.updatedBy ? ' · ' + f.updatedBy : '') }),
          h('td', { class: 'actions' },
            f.enabled
              ? h('button', { type: 'button', class: 'small danger flag-off', text: 'Switch off', onclick: () => set(f, false, 0) })
              : h('button', { type: 'button', class: 'small flag-on', text: 'Switch on', onclick: () => set(f, true, 100) }),
            ' ', pct, h('button', { type: 'button', class: 'small ghost flag-restore', text: '% restore', title: 'On for this percentage of users',
              onclick: () => set(f, true, Number(pct.value)) }),
            ' ', h('button', { type: 'button', class: 'small ghost danger', text: 'Delete', onclick: async () => {
              if (!confirm('Delete the kill switch ' + f.deployment + '/' + f.name + '? dApps then treat the feature as on.')) return;
              try { await api(flagURL(f), { method: 'DELETE' }); await load(); } catch (e) { fail(e); }
            } }))));
      }
    }

    $('#flag-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const fm = e.target;
      const f = { deployment: fm.deployment.value.trim() || 'default', name: fm.name.value.trim(), description: fm.description.value.trim() };
      await set(f, false, 0);
      if (err.hidden) { fm.name.value = ''; fm.description.value = ''; }
    });
    load().catch(fail);
  }

  Object.assign(bt, { killSwitches });
})();
