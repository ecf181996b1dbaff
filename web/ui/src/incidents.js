// incidents.js: the incidents page. The list is rendered by the server;
// this script opens an incident (POST /api/v1/incidents, by hand, from the
// alert or from the search the page was opened with) and goes to its page,
// and runs the kill switches card.
(function () {
  'use strict';
  const bt = window.bt;
  if (!bt) return;
  const { $, api, killSwitches } = bt;

  function list(s) { return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean); }

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
  });
})();
