// address.js: an address's page: its activity over time.
(function () {
  'use strict';
  const bt = window.bt;
  const { $, h, clear, api, iso, exploreURL, timePicker, readState, writeState, timeChart } = bt;

  function addressPage() {
    const el = $('#activity');
    const defaults = { from: 'now-24h', to: 'now' };
    let st = readState(defaults);
    async function draw() {
      timePicker($('#timepicker'), st.from, st.to, (f, t) => { st = { from: f, to: t }; writeState(st, defaults); draw(); });
      try {
        const res = await api('/api/v1/chart?' + new URLSearchParams({ q: el.dataset.query, from: st.from, to: st.to }).toString());
        if (!res.series.length) { clear(el).append(h('div', { class: 'msg', text: 'No activity in this range' })); return; }
        timeChart(el, res, {
          type: 'stacked', key: 'activity',
          link: (si, bi) => exploreURL(res.series[si].query, res.times[bi], res.times[bi] + res.intervalMs),
          legendLink: (si) => exploreURL(res.series[si].query, Date.parse(res.from), Date.parse(res.to)),
          onSelect: (a, b) => { st = { from: iso(a), to: iso(b) }; writeState(st, defaults); draw(); },
        });
      } catch (e) { clear(el).append(h('div', { class: 'msg err', text: e.message })); }
    }
    draw();
  }

  bt.onPage('address', addressPage, { charts: true });
})();
