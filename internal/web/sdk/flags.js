/*
 * blocktorch kill switches for dApp front ends: hides or disables the
 * features an operator switched off during an incident, and shows the
 * users' warning banner.
 *
 * Plain JavaScript, no dependencies, no build step. Include it once; it
 * finds its server from its own URL:
 *
 *   <script src="https://blocktorch.example/sdk/flags.js" data-deployment="app"></script>
 *
 * Mark what a flag controls with data attributes:
 *
 *   <button data-bt-flag="borrow">Borrow</button>              hidden while "borrow" is off
 *   <button data-bt-flag="swap" data-bt-mode="disable">…</button> disabled instead of hidden
 *   <section data-bt-flag="bridge" data-bt-fallback="off">…</section>
 *   <div data-bt-banner></div>                                 where the banner goes (else the top of <body>)
 *
 * A flag not in the answer is on. Flags are read from
 * GET /api/v1/public/flags?deployment=… (default "default"), and the banner
 * from GET /api/v1/public/banner, at load and every 30 s (data-interval, in
 * seconds); the browser revalidates them with their ETag.
 *
 * Fail-safe: when the server is unreachable the last answer it gave (kept
 * in localStorage) stays in force; with none, each element takes its
 * data-bt-fallback ("on" unless the script tag's data-fallback says "off"),
 * so an outage of blocktorch does not take a dApp down, and a feature that
 * must stay off unless confirmed says data-bt-fallback="off". For that to
 * hold when blocktorch cannot serve this script either, serve a copy from
 * the dApp's own origin and name the server with data-endpoint:
 *
 *   <script src="/js/flags.js" data-endpoint="https://blocktorch.example" data-deployment="app"></script>
 *
 * and hide what must stay off until the script says otherwise in CSS:
 *
 *   [data-bt-fallback="off"]:not([data-bt-state="on"]) { display: none; }
 *
 * Gradual restore: a flag on for N% of users is on for the users whose
 * bucket (0..99) is below N. The bucket is a hash of the flag's name and a
 * random id kept in localStorage, so a user keeps their answer across loads
 * and a flag going from 10% to 50% keeps the first 10% on.
 *
 * Script API (window.blocktorchFlags): isOn(name) → boolean, refresh() →
 * Promise, onChange(fn) (fn(flags) after each change), bucket(name) → 0..99,
 * ready (a Promise settled after the first read).
 */
(function (root) {
  "use strict";
  var doc = root.document;
  var script = doc && doc.currentScript;
  var attr = function (name, def) {
    var v = script && script.getAttribute(name);
    return v === null || v === undefined || v === "" ? def : v;
  };
  var endpoint = attr("data-endpoint", script && script.src ? new URL(script.src, root.location.href).origin : "");
  var deployment = attr("data-deployment", "default");
  var fallback = attr("data-fallback", "on") === "off" ? "off" : "on";
  var interval = Math.max(5, parseInt(attr("data-interval", "30"), 10) || 30) * 1000;

  var STORE = "blocktorch.flags." + deployment;
  var UID = "blocktorch.flags.uid";
  var flags = null; // name → {enabled, percent}; null: never read
  var banners = [];
  var listeners = [];

  function storage() {
    try {
      return root.localStorage;
    } catch (e) {
      return null; // storage disabled (private mode, sandboxed frame)
    }
  }

  function uid() {
    var s = storage();
    var id = s && s.getItem(UID);
    if (!id) {
      var b = new Uint8Array(16);
      if (root.crypto && root.crypto.getRandomValues) {
        root.crypto.getRandomValues(b);
      } else {
        for (var i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
      }
      id = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
      if (s) {
        try { s.setItem(UID, id); } catch (e) { /* full: a new id per load */ }
      }
    }
    return id;
  }

  // bucket is FNV-1a (32 bit) of "uid:name", mod 100.
  function bucket(name) {
    var str = uid() + ":" + name;
    var h = 0x811c9dc5;
    for (var i = 0; i < str.length; i++) {
      h ^= str.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % 100;
  }

  function isOn(name, def) {
    if (flags === null) {
      return (def || fallback) === "on";
    }
    var f = flags[name];
    if (!f) {
      return true;
    }
    return !!f.enabled && bucket(name) < (f.percent || 100);
  }

  function apply() {
    if (!doc) return;
    var els = doc.querySelectorAll("[data-bt-flag]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var on = isOn(el.getAttribute("data-bt-flag"), el.getAttribute("data-bt-fallback"));
      if (el.getAttribute("data-bt-mode") === "disable") {
        if (on) {
          el.removeAttribute("disabled");
          el.removeAttribute("aria-disabled");
        } else {
          el.setAttribute("disabled", "");
          el.setAttribute("aria-disabled", "true");
        }
      } else {
        el.hidden = !on;
      }
      el.setAttribute("data-bt-state", on ? "on" : "off");
    }
    showBanner();
  }

  function showBanner() {
    var box = doc.querySelector("[data-bt-banner]");
    if (!box) {
      if (!banners.length || !doc.body) return;
      box = doc.createElement("div");
      box.setAttribute("data-bt-banner", "");
      box.setAttribute("role", "alert");
      box.style.cssText = "padding:.6em 1em;background:#b42318;color:#fff;font:600 14px/1.4 system-ui,sans-serif;text-align:center";
      doc.body.insertBefore(box, doc.body.firstChild);
    }
    // Text only: the banner is written by people and never parsed as HTML.
    box.textContent = banners.map(function (b) { return b.text; }).join(" · ");
    box.hidden = banners.length === 0;
  }

  function load() {
    var s = storage();
    try {
      var saved = s && JSON.parse(s.getItem(STORE) || "null");
      if (saved && saved.flags) {
        flags = saved.flags;
        banners = saved.banners || [];
      }
    } catch (e) { /* a bad saved answer is no answer */ }
  }

  function save() {
    var s = storage();
    if (s) {
      try { s.setItem(STORE, JSON.stringify({ flags: flags, banners: banners })); } catch (e) { /* full */ }
    }
  }

  function get(path) {
    return fetch(endpoint + path, { cache: "no-cache", credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error("blocktorch flags: " + path + " answered " + r.status);
      return r.json();
    }).then(function (env) {
      if (!env || env.status !== "success") throw new Error("blocktorch flags: " + path + " failed");
      return env.data;
    });
  }

  function refresh() {
    return Promise.all([
      get("/api/v1/public/flags?deployment=" + encodeURIComponent(deployment)),
      get("/api/v1/public/banner").catch(function () { return { banners: banners }; }),
    ]).then(function (res) {
      var before = JSON.stringify([flags, banners]);
      flags = res[0].flags || {};
      banners = (res[1] && res[1].banners) || [];
      save();
      apply();
      if (JSON.stringify([flags, banners]) !== before) {
        listeners.forEach(function (fn) { try { fn(flags); } catch (e) { /* a listener's bug */ } });
      }
    }, function () {
      apply(); // unreachable: the last answer, or the fallbacks
    });
  }

  load();
  var api = {
    isOn: function (name) { return isOn(name); },
    refresh: refresh,
    bucket: bucket,
    onChange: function (fn) { listeners.push(fn); },
  };
  if (doc && doc.readyState === "loading") {
    api.ready = new Promise(function (res) {
      doc.addEventListener("DOMContentLoaded", function () { apply(); refresh().then(res); });
    });
  } else {
    apply();
    api.ready = refresh();
  }
  setInterval(refresh, interval);
  root.blocktorchFlags = api;
})(window);
