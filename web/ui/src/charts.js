// charts.js: charts over time and by category (uPlot wrappers), the
// palette and the colours taken from the theme. Needs uPlot.iife.min.js and
// bt.js before it. window.__bt.charts holds every drawn chart by key, for
// redraws on a theme change and for tests. Series names and categories are
// attacker-controlled: legends and tooltips write them as text.
(function () {
  'use strict';
  const bt = window.bt;
  const { h, clear, fmtTime, fmtNum, fmtCell, named, epochTime, addrRe } = bt;

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  // palette holds 24 colours told apart on both themes, none of them the
  // level/status colours colorFor reserves, so a stack of up to 24 series
  // never repeats one.
  const palette = ['#ff7a1a', '#4e9bff', '#b07cff', '#2ec4b6', '#e86fb2', '#a3d13a', '#ffb000', '#17becf',
    '#9c6b4e', '#7f7fff', '#ff9e80', '#bcbd22', '#d147a3', '#6a8d2f', '#c9a27e', '#1f5fbf',
    '#b8860b', '#7a5195', '#ffcf99', '#3b5bdb', '#00897b', '#ff6f91', '#8d99ae', '#5e35b1'];

  function colorFor(name, i) {
    switch (name) {
      case 'failed': case 'error': case 'fatal': return cssVar('--bad') || '#ff5d5d';
      case 'success': case 'info': return cssVar('--ok') || '#3ecf8e';
      case 'warn': return cssVar('--warn') || '#f2c94c';
      case 'debug': case 'trace': return '#8a96a8';
    }
    return palette[i % palette.length];
  }

  // charts holds every drawn chart by key, for redraws and for tests.
  const charts = {};
  window.__bt = {
    charts,
    // pointPos returns the page coordinates of a data point (the middle of
    // a bar or stack segment), for tests that click it.
    pointPos(key, seriesName, idx) {
      const c = charts[key];
      return c ? c.pointPos(seriesName, idx) : null;
    },
  };

  // timeChart draws series over time with uPlot into el.
  // res: {times, intervalMs, series:[{name, query, values}]}
  // opts: {type: timeseries|bar|stacked, key, link(seriesIdx, bucketIdx), onSelect(fromMs, toMs)}
  function timeChart(el, res, opts) {
    const legendEl = opts.legend === false ? null : h('div', { class: 'legend' });
    const host = h('div', { class: 'chart-host' });
    clear(el).append(host);
    if (legendEl) el.append(legendEl);
    const iv = res.intervalMs || 60000;
    const xs = res.times.map((t) => (t + iv / 2) / 1000);
    const stacked = opts.type === 'stacked';
    const bars = opts.type === 'bar' || stacked;
    const names = res.series.map((s) => s.name);
    // cum[i][j]: top of series i's segment in bucket j when stacked.
    const cum = res.series.map((s) => s.values.map((v) => (v == null ? null : v)));
    if (stacked) {
      for (let i = 1; i < cum.length; i++) {
        for (let j = 0; j < xs.length; j++) cum[i][j] = (cum[i - 1][j] || 0) + (res.series[i].values[j] || 0);
      }
    }
    // uPlot draws in order; stacks are drawn tallest first so the lower
    // segments cover them.
    const order = res.series.map((_, i) => i);
    if (stacked) order.reverse();
    const colors = names.map((n, i) => colorFor(n, i));
    const barPaths = bars && window.uPlot.paths.bars ? window.uPlot.paths.bars({ size: [0.86, 80], gap: 1 }) : null;
    let lastSelect = 0;
    const tip = h('div', { class: 'chart-tip', hidden: true });
    const axisStroke = cssVar('--dim') || '#8a96a8';
    const gridStroke = cssVar('--line') || '#252d39';
    const bgFill = cssVar('--panel') || '#151a22';
    // The last bucket, when it is still filling, is veiled and marked so
    // that its lower count does not read as an outage.
    const partial = opts.partial === false ? -1 : partialBucket(res, Date.now());
    const size = () => ({ width: Math.max(200, el.clientWidth), height: Math.max(60, el.clientHeight - (legendEl ? legendEl.offsetHeight + 2 : 0)) });
    const u = new window.uPlot({
      ...size(),
      legend: { show: false },
      padding: [6, 6, 0, 0],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: !bars }, focus: { prox: 24 } },
      select: { show: true },
      scales: { x: { time: true, range: xs.length ? [res.times[0] / 1000, (res.times[res.times.length - 1] + iv) / 1000] : null }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        { stroke: axisStroke, grid: { stroke: gridStroke, width: 1 }, ticks: { stroke: gridStroke }, size: 28, font: '11px system-ui' },
        { stroke: axisStroke, grid: { stroke: gridStroke, width: 1 }, ticks: { show: false }, size: 44, font: '11px system-ui', values: (u, vals) => vals.map(fmtNum) },
      ],
      series: [{}].concat(order.map((i) => ({
        label: names[i], stroke: colors[i], width: bars ? 0 : 2,
        fill: bars ? colors[i] : colors[i] + '22', paths: bars ? barPaths : undefined, points: { show: false },
      }))),
      hooks: {
        draw: [(u) => {
          if (partial < 0) return;
          const x0 = u.valToPos(res.times[partial] / 1000, 'x', true), x1 = u.valToPos((res.times[partial] + iv) / 1000, 'x', true);
          const c = u.ctx, top = u.bbox.top, hgt = u.bbox.height;
          c.save();
          c.globalAlpha = 0.55;
          c.fillStyle = bgFill;
          c.fillRect(x0, top, x1 - x0, hgt);
          c.globalAlpha = 1;
          c.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
          c.strokeStyle = axisStroke;
          c.lineWidth = devicePixelRatio;
          c.strokeRect(x0 + devicePixelRatio / 2, top, x1 - x0 - devicePixelRatio, hgt);
          c.restore();
        }],
        setSelect: [(u) => {
          if (u.select.width < 4 || !opts.onSelect) return;
          const a = u.posToVal(u.select.left, 'x') * 1000, b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          lastSelect = Date.now();
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          // Snap to whole buckets.
          const t0 = res.times[0];
          const from = t0 + Math.floor((a - t0) / iv) * iv, to = t0 + Math.ceil((b - t0) / iv) * iv;
          opts.onSelect(from, Math.max(to, from + iv));
        }],
        setCursor: [(u) => {
          const idx = u.cursor.idx;
          if (idx == null || u.cursor.left < 0) { tip.hidden = true; return; }
          clear(tip);
          tip.append(h('div', { class: 'dim', text: fmtTime(res.times[idx]) + ' +' + fmtDur(iv) + (idx === partial ? ' (so far)' : '') }));
          res.series.slice().reverse().forEach((s) => {
            const v = s.values[idx];
            if (v == null) return;
            tip.append(h('div', {}, h('span', { class: 'sw', style: null }), s.name + ': ' + fmtNum(v)));
            tip.lastChild.firstChild.style.background = colors[res.series.indexOf(s)];
          });
          tip.hidden = false;
          const left = u.cursor.left + u.bbox.left / devicePixelRatio;
          tip.style.left = Math.min(left + 12, host.clientWidth - tip.offsetWidth - 4) + 'px';
          tip.style.top = Math.max(0, u.cursor.top - 10) + 'px';
        }],
      },
    }, [xs].concat(order.map((i) => (stacked ? cum[i] : res.series[i].values))), host);
    host.style.position = 'relative';
    host.append(tip);
    u.over.addEventListener('mouseleave', () => { tip.hidden = true; });

    // seriesAt picks the series under the cursor in bucket idx.
    function seriesAt(idx, top) {
      if (res.series.length <= 1) return 0;
      const y = u.posToVal(top, 'y');
      if (stacked) {
        for (let i = 0; i < cum.length; i++) {
          if ((res.series[i].values[idx] || 0) > 0 && cum[i][idx] >= y) return i;
        }
        for (let i = cum.length - 1; i >= 0; i--) if ((res.series[i].values[idx] || 0) > 0) return i;
        return 0;
      }
      let best = 0, bestD = Infinity;
      res.series.forEach((s, i) => {
        const v = s.values[idx];
        if (v == null) return;
        const d = Math.abs(u.valToPos(v, 'y') - top);
        if (d < bestD) { bestD = d; best = i; }
      });
      return best;
    }

    u.over.addEventListener('click', () => {
      if (Date.now() - lastSelect < 400) return;
      const idx = u.cursor.idx;
      if (idx == null || !opts.link) return;
      const url = opts.link(seriesAt(idx, u.cursor.top), idx);
      if (url) location.href = url;
    });

    if (legendEl) {
      res.series.forEach((s, i) => {
        const sw = h('span', { class: 'sw' });
        sw.style.background = colors[i];
        const href = opts.legendLink ? opts.legendLink(i) : null;
        legendEl.append(href ? h('a', { href }, sw, s.name) : h('span', {}, sw, s.name));
      });
    }

    const ro = new ResizeObserver(() => u.setSize(size()));
    ro.observe(el);
    const c = {
      u, res, names, colors, partial, axisStroke,
      // redraw draws the chart again in place, with the theme's colours.
      redraw() { timeChart(el, res, opts); },
      pointPos(seriesName, idx) {
        const i = names.indexOf(seriesName);
        if (i < 0 || idx < 0 || idx >= xs.length) return null;
        const top = stacked ? cum[i][idx] : res.series[i].values[idx];
        const bottom = stacked && i > 0 ? cum[i - 1][idx] || 0 : 0;
        const r = u.over.getBoundingClientRect();
        return { x: r.left + u.valToPos(xs[idx], 'x'), y: r.top + u.valToPos(bars ? (top + bottom) / 2 : top, 'y') };
      },
      destroy() { ro.disconnect(); u.destroy(); },
    };
    if (opts.key) {
      if (charts[opts.key]) charts[opts.key].destroy();
      charts[opts.key] = c;
    }
    return c;
  }

  function fmtDur(ms) {
    for (const [u, n] of [['d', 86400e3], ['h', 3600e3], ['m', 60e3], ['s', 1e3]]) if (ms >= n && ms % n === 0) return ms / n + u;
    return ms + 'ms';
  }

  // categoryBars draws one bar per category as links to their records.
  function categoryBars(el, res, link) {
    clear(el);
    const vals = (res.series[0] || { values: [] }).values;
    const max = Math.max(1, ...vals.map((v) => v || 0));
    const box = h('div', { class: 'catbars' });
    if (!res.categories || !res.categories.length) { el.append(h('div', { class: 'msg', text: 'No data in this range' })); return; }
    res.categories.forEach((name, i) => {
      const fill = h('div', { class: 'fill' });
      fill.style.width = (100 * (vals[i] || 0) / max).toFixed(1) + '%';
      const href = link ? link(i) : null;
      const label = h('span', { text: name });
      if (typeof name === 'string' && addrRe.test(name)) named(label, name);
      box.append(h(href ? 'a' : 'div', { class: 'catbar', href, title: name }, fill, label, h('span', { class: 'n', text: fmtNum(vals[i]) })));
    });
    el.append(box);
  }

  // resultTable draws a query's output rows; rowLink(i) makes rows links.
  function resultTable(el, res, rowLink) {
    clear(el);
    if (!res.rows || !res.rows.length) { el.append(h('div', { class: 'msg', text: 'No rows in this range' })); return; }
    const numeric = res.columns.map((_, c) => res.rows.every((r) => r[c] == null || typeof r[c] === 'number'));
    const t = h('table', { class: 'result-table' },
      h('thead', {}, h('tr', {}, res.columns.map((c, i) => h('th', { class: numeric[i] ? 'num' : '', text: c })))),
      h('tbody', {}, res.rows.map((r, i) => {
        const href = rowLink ? rowLink(i) : null;
        return h('tr', {}, r.map((v, c) => {
          const ms = epochTime(res.columns[c], v);
          let cell = ms != null ? h('span', { class: 'epoch', title: String(v), text: fmtTime(ms) }) : fmtCell(v);
          if (c === 0 && href) cell = h('a', { href, text: fmtCell(v) || '(none)' });
          if (typeof v === 'string' && addrRe.test(v)) named(typeof cell === 'string' ? (cell = h('span', { text: v })) : cell, v);
          return h('td', { class: numeric[c] ? 'num' : '' }, cell);
        }));
      })));
    el.append(h('div', { class: 'panel-table' }, t));
  }

  // partialBucket is the index of the last bucket when it ends after now
  // (still filling), else -1.
  function partialBucket(res, now) {
    const n = res.times ? res.times.length : 0;
    if (!n || !res.intervalMs) return -1;
    return res.times[n - 1] + res.intervalMs > now ? n - 1 : -1;
  }

  Object.assign(bt, { cssVar, palette, colorFor, charts, timeChart, fmtDur, categoryBars, resultTable, partialBucket });
})();
