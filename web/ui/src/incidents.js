// incidents.js: the incidents page. The list is rendered by the server;
// this script opens an incident (POST /api/v1/incidents, by hand, from the
// alert or from the search the page was opened with) and goes to its page,
// runs the kill switches card, the status page's components
// (/api/v1/status/components) and the postmortem template editor
// (/api/v1/incidents/template, with a preview that saves nothing).
// Everything from the API is text: it reaches the page through
// textContent, values and attributes only.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { $, h, clear, api, killSwitches } = bt;

  function list(s) { return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean); }
  function errorText(e) { return e && e.message ? e.message : String(e); }
  function show(el, e) { el.hidden = !e; el.textContent = e ? errorText(e) : ''; }

  // The words /status shows for a component's state.
  const statusWords = { operational: 'Operational', degraded: 'Degraded performance', partial_outage: 'Partial outage', major_outage: 'Major outage' };

  // components runs the status page's components card: the list with
  // what /status shows for each, edit (fills the form), delete, and the
  // form that adds or replaces one.
  function components() {
    const form = $('#component-form'), err = $('#component-error');
    const url = (id) => '/api/v1/status/components/' + encodeURIComponent(id);
    async function load() {
      const [list, page] = await Promise.all([api('/api/v1/status/components'), api('/status.json')]);
      const shown = {};
      for (const c of page.components || []) shown[c.id] = c.status;
      const tb = clear($('#component-list tbody'));
      if (!list.length) { tb.append(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: 'No components: /status shows the open public incidents only.' }))); return; }
      for (const c of list) {
        const st = shown[c.id] || 'operational';
        tb.append(h('tr', { 'data-component': c.id },
          h('td', { class: 'mono small', text: c.id }),
          h('td', { text: c.name }),
          h('td', { class: 'small', text: c.kind }),
          h('td', { class: 'mono small', text: c.ref }),
          h('td', { class: 'small', text: String(c.position) }),
          h('td', { class: 'small set-status', text: c.status ? statusWords[c.status] || c.status : '—' }),
          h('td', {}, h('span', { class: 'state ' + (st === 'operational' ? 'state-ok' : 'state-firing'), 'data-status': st, text: statusWords[st] || st })),
          h('td', { class: 'actions' },
            h('button', { type: 'button', class: 'small ghost component-edit', text: 'Edit', onclick: () => {
              form.cid.value = c.id; form.name.value = c.name; form.kind.value = c.kind; form.ref.value = c.ref; form.position.value = c.position; form.status.value = c.status || '';
              form.name.focus();
            } }),
            ' ', h('button', { type: 'button', class: 'small ghost danger component-delete', text: 'Delete', onclick: async () => {
              if (!confirm('Remove ' + c.name + ' from the status page?')) return;
              show(err, null);
              try { await api(url(c.id), { method: 'DELETE' }); await load(); } catch (e) { show(err, e); }
            } }))));
      }
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      show(err, null);
      const id = form.cid.value.trim();
      try {
        await api(url(id), { method: 'PUT', json: { name: form.name.value.trim(), kind: form.kind.value, ref: form.ref.value.trim(), position: Number(form.position.value) || 0, status: form.status.value } });
        form.reset();
        await load();
      } catch (ex) { show(err, ex); }
    });
    load().catch((e) => show(err, e));
  }

  // template runs the postmortem template editor: the template in force,
  // a preview of what the text being typed gives (for a sample incident or
  // a chosen one) or why it fails, save, and reset to the default.
  function template() {
    const body = $('#template-body'), inc = $('#template-incident'), out = $('#template-preview');
    const err = $('#template-error'), result = $('#template-result');
    let seq = 0, timer = 0;
    function state(isDefault) { $('#template-state').textContent = isDefault ? 'the default template' : 'your template'; }
    async function preview() {
      const my = ++seq;
      const n = Number(inc.value);
      try {
        const d = await api('/api/v1/incidents/template/preview', { json: { body: body.value, incident: n > 0 ? n : 0 } });
        if (my !== seq) return;
        show(err, null);
        out.textContent = d.markdown;
        $('#template-preview-state').textContent = n > 0 ? 'incident ' + n : 'a sample incident';
      } catch (e) {
        if (my === seq) { show(err, e); $('#template-preview-state').textContent = 'preview failed'; }
      }
    }
    function later() { clearTimeout(timer); timer = setTimeout(preview, 300); result.textContent = ''; }
    body.addEventListener('input', later);
    inc.addEventListener('input', later);
    async function save(text) {
      show(err, null);
      result.textContent = '';
      try {
        const d = await api('/api/v1/incidents/template', { method: 'PUT', json: { body: text } });
        body.value = d.body; state(d.default);
        result.className = 'small ok'; result.textContent = d.default ? 'The default is in force.' : 'Saved.';
        await preview();
      } catch (e) { show(err, e); result.className = 'small bad'; result.textContent = 'Not saved.'; }
    }
    $('#template-save').addEventListener('click', () => save(body.value));
    $('#template-reset').addEventListener('click', () => {
      if (confirm('Replace the template by the default? Yours is discarded.')) save('');
    });
    api('/api/v1/incidents/template').then((d) => { body.value = d.body; state(d.default); return preview(); }).catch((e) => show(err, e));
  }

  bt.onPage('incidents', () => {
    const card = $('#open-card'), form = $('#open-form'), err = $('#open-error');
    $('#open-toggle').addEventListener('click', () => { card.hidden = !card.hidden; if (!card.hidden) form.title.focus(); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      const d = form.dataset;
      const body = {
        title: form.title.value.trim(), severity: form.severity.value, owner: form.owner.value.trim(),
        contracts: list(form.contracts.value), services: list(form.services.value), summary: form.summary.value,
        public: form.public.checked, publicTitle: form.publicTitle.value.trim(),
      };
      if (d.monitor) body.alert = { monitor: d.monitor, key: d.key || '' };
      else if (d.query) {
        body.search = { query: d.query };
        if (d.from && !isNaN(Date.parse(d.from))) body.search.from = new Date(Date.parse(d.from)).toISOString();
        if (d.to && !isNaN(Date.parse(d.to))) body.search.to = new Date(Date.parse(d.to)).toISOString();
      }
      try {
        const res = await api('/api/v1/incidents', { json: body });
        location.href = '/incidents/' + res.incident.id;
      } catch (ex) {
        err.hidden = false;
        err.textContent = ex.message || String(ex);
      }
    });
    killSwitches();
    components();
    template();
  });
})();
