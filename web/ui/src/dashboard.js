// dashboard.js: a dashboard's page (the home page is one): panels, editing, export and sharing.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, api, sharePanel, renderPanel, panelTypes, dashboardView } = bt;

  function download(name, obj) {
    const blob = new Blob([JSON.stringify(obj, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  async function dashboardPage() {
    const root = $('#dashboard');
    const id = root.dataset.id;
    let d;
    try { d = await api('/api/v1/dashboards/' + encodeURIComponent(id)); } catch (e) {
      $('#panels').append(h('p', { class: 'error-box', text: e.message }));
      return;
    }
    let editing = false;
    let draft = null;
    const view = dashboardView(d.spec, {
      links: true,
      panelURL: (p, from, to) => '/api/v1/chart?' + new URLSearchParams({ q: p.query || '', from, to }).toString(),
      onPanel: (p, el) => { if (editing) panelEditor(p, el); },
    });

    function panelEditor(p, el) {
      el.classList.add('editing');
      const i = draft.panels.indexOf(p);
      const f = (label, input) => h('label', { class: 'stack' }, label, input);
      const title = h('input', { value: p.title || '', 'aria-label': 'Title' });
      const type = h('select', { 'aria-label': 'Type' }, panelTypes.map((t) => h('option', { value: t, text: t, selected: t === p.type })));
      const width = h('input', { type: 'number', min: 1, max: 12, value: p.width || 6, 'aria-label': 'Width' });
      const height = h('input', { type: 'number', min: 1, max: 4, value: p.height || 2, 'aria-label': 'Height' });
      const q = h('textarea', { 'aria-label': 'Query', spellcheck: 'false' });
      q.value = p.query || '';
      const summary = h('input', { value: p.summary || '', placeholder: 'total, rate, max, last, ratio:failed', 'aria-label': 'Summary' });
      const sync = () => {
        p.title = title.value; p.type = type.value; p.width = Number(width.value) || 6; p.height = Number(height.value) || 2;
        p.query = q.value; p.summary = summary.value.trim();
        el.style.gridColumn = 'span ' + Math.max(1, Math.min(12, p.width));
        el.style.gridRow = 'span ' + Math.max(1, Math.min(4, p.height));
      };
      for (const inp of [title, type, width, height, q, summary]) inp.addEventListener('input', sync);
      const move = (delta) => {
        const j = i + delta;
        if (j < 0 || j >= draft.panels.length) return;
        [draft.panels[i], draft.panels[j]] = [draft.panels[j], draft.panels[i]];
        view.redraw();
      };
      el.append(h('div', { class: 'panel-edit' },
        f('Title', title), f('Type', type), f('Width (1-12)', width), f('Height (1-4)', height), q, f('Summary', summary),
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'ghost small', text: '←', title: 'Move earlier', onclick: () => move(-1) }),
          h('button', { type: 'button', class: 'ghost small', text: '→', title: 'Move later', onclick: () => move(1) }),
          h('button', { type: 'button', class: 'ghost small', text: 'Preview', onclick: () => renderPanel(p, el, { links: false, fetchURL: (pp) => '/api/v1/chart?' + new URLSearchParams({ q: pp.query, from: view.state().from, to: view.state().to }).toString() }) }),
          h('button', { type: 'button', class: 'ghost small danger', text: 'Remove', onclick: () => { draft.panels.splice(draft.panels.indexOf(p), 1); view.redraw(); } }))));
    }

    const editBtn = $('#edit-toggle');
    function startEdit() {
      editing = true;
      draft = JSON.parse(JSON.stringify(d.spec));
      d.spec.panels.splice(0, d.spec.panels.length, ...draft.panels);
      draft.panels = d.spec.panels;
      $('#edit-bar').hidden = false;
      editBtn.classList.add('on');
      view.redraw();
    }
    async function stopEdit(save) {
      if (save) {
        try {
          d = await api('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'PUT', json: { name: d.name, spec: Object.assign({}, d.spec, { panels: draft.panels }) } });
        } catch (e) { alert('Cannot save: ' + e.message); return; }
      } else {
        d = await api('/api/v1/dashboards/' + encodeURIComponent(id));
      }
      editing = false;
      location.reload();
    }
    if (editBtn) {
      editBtn.addEventListener('click', () => (editing ? stopEdit(false) : startEdit()));
      $('#save-dash').addEventListener('click', () => stopEdit(true));
      $('#cancel-edit').addEventListener('click', () => stopEdit(false));
      $('#add-panel').addEventListener('click', () => {
        draft.panels.push({ id: 'p' + Date.now().toString(36), title: 'New panel', type: 'timeseries', query: '* | timechart count() by level', width: 6, height: 2 });
        view.redraw();
      });
      if (new URLSearchParams(location.search).get('edit') === '1') startEdit();
      $('#rename-btn').addEventListener('click', async () => {
        const name = prompt('New name', d.name);
        if (!name) return;
        try {
          d = await api('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'PUT', json: { name, spec: d.spec } });
          $('#dash-title').textContent = d.name;
          document.title = d.name + ' · blocktorch';
        } catch (e) { alert(e.message); }
      });
      $('#export-btn').addEventListener('click', () => download((d.name || 'dashboard').replace(/[^\w.-]+/g, '_') + '.json', { name: d.name, spec: d.spec }));
      $('#duplicate-btn').addEventListener('click', async () => {
        try {
          const c = await api('/api/v1/dashboards', { json: { name: 'Copy of ' + d.name, spec: d.spec } });
          location.href = '/dashboards/' + encodeURIComponent(c.id);
        } catch (e) { alert(e.message); }
      });
      $('#delete-btn').addEventListener('click', async () => {
        if (!confirm(id === 'home' ? 'Reset the home dashboard to the built-in one?' : 'Delete the dashboard “' + d.name + '”?')) return;
        try {
          await api('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'DELETE' });
          location.href = id === 'home' ? '/' : '/dashboards';
        } catch (e) { alert(e.message); }
      });
    }
    const shareBtn = $('#share-btn');
    if (shareBtn) shareBtn.addEventListener('click', () => sharePanel($('#share-panel'), [['dashboard', 'This dashboard']], id, () => view.state()));
  }

  bt.onPage('dashboard', dashboardPage, { charts: true });
})();
