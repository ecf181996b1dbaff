/*
 * blocktorch browser SDK: sends a dApp front end's errors, wallet rejections,
 * RPC failures and submitted transactions to blocktorch, so one search
 * follows a user's click to the transaction and its on-chain result.
 *
 * Plain JavaScript, no dependencies, no build step:
 *
 *   <script src="https://blocktorch.example/sdk/blocktorch.js"></script>
 *   <script>
 *     blocktorch.init({endpoint: "https://blocktorch.example", key: "pk_…", service: "dapp-web"});
 *     const ethereum = blocktorch.wrapProvider(window.ethereum);
 *   </script>
 *
 * Records go to POST {endpoint}/api/v1/logs as NDJSON with the public ingest
 * key in X-Blocktorch-Key, in batches (every 2 s or 50 records, whichever
 * comes first), and with navigator.sendBeacon (or fetch keepalive) when the
 * page is hidden. Every record carries the tab's session id.
 */
(function (root, factory) {
  var sdk = factory(root);
  if (typeof module === "object" && module && module.exports) {
    module.exports = sdk;
  }
  root.blocktorch = sdk;
})(typeof window !== "undefined" ? window : globalThis, function (root) {
  "use strict";

  var MAX_QUEUE = 1000; // records kept while the server is unreachable
  var MAX_TEXT = 8192; // characters of a message or stack sent
  var SESSION_KEY = "blocktorch.session";
  var SUBMIT_METHODS = { eth_sendTransaction: true, eth_sendRawTransaction: true };
  var SIGN_METHODS = { personal_sign: true, eth_sign: true, eth_signTypedData: true, eth_signTypedData_v3: true, eth_signTypedData_v4: true };

  var cfg = null;
  var queue = [];
  var timer = null;
  var inflight = [];
  var session = null;
  var listening = false;

  function randomId() {
    var c = root.crypto;
    if (c && typeof c.randomUUID === "function") {
      return c.randomUUID();
    }
    var b = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(b);
    } else {
      for (var i = 0; i < b.length; i++) {
        b[i] = Math.floor(Math.random() * 256);
      }
    }
    var s = "";
    for (var j = 0; j < b.length; j++) {
      s += (b[j] < 16 ? "0" : "") + b[j].toString(16);
    }
    return s;
  }

  // One id per tab: sessionStorage survives reloads of the tab, not other tabs.
  function sessionId() {
    if (session) {
      return session;
    }
    try {
      var s = root.sessionStorage && root.sessionStorage.getItem(SESSION_KEY);
      if (s) {
        session = s;
        return s;
      }
    } catch (e) {
      // Storage may be blocked; a per-page id still works.
    }
    session = randomId();
    try {
      if (root.sessionStorage) {
        root.sessionStorage.setItem(SESSION_KEY, session);
      }
    } catch (e) {
      // ignore
    }
    return session;
  }

  function text(v) {
    var s = typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + "…" : s;
  }

  function errorText(e) {
    if (e && typeof e === "object" && "message" in e) {
      return text(e.message);
    }
    try {
      return text(typeof e === "string" ? e : JSON.stringify(e));
    } catch (x) {
      return text(e);
    }
  }

  function url() {
    var e = cfg.endpoint.replace(/\/+$/, "");
    return /\/api\/v1\/logs$/.test(e) ? e : e + "/api/v1/logs";
  }

  // log queues one record; attrs are merged into it as attributes.
  function log(level, message, attrs, kind) {
    if (!cfg) {
      return;
    }
    var rec = {
      time: new Date().toISOString(),
      level: level || "info",
      service: cfg.service,
      source: "app",
      kind: kind || "log",
      message: text(message),
      session: sessionId(),
    };
    if (root.location && root.location.href) {
      rec.page = String(root.location.href);
    }
    var k;
    for (k in cfg.attrs) {
      if (Object.prototype.hasOwnProperty.call(cfg.attrs, k)) {
        rec[k] = cfg.attrs[k];
      }
    }
    for (k in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] !== undefined) {
        rec[k] = attrs[k];
      }
    }
    queue.push(rec);
    if (queue.length > MAX_QUEUE) {
      queue.splice(0, queue.length - MAX_QUEUE);
    }
    if (queue.length >= cfg.maxBatch) {
      send(false);
    } else if (!timer) {
      timer = setTimeout(function () {
        timer = null;
        send(false);
      }, cfg.flushInterval);
    }
  }

  function body(batch) {
    var lines = [];
    for (var i = 0; i < batch.length; i++) {
      try {
        lines.push(JSON.stringify(batch[i]));
      } catch (e) {
        lines.push(JSON.stringify({ time: batch[i].time, level: "warn", service: cfg.service, kind: "sdk", message: "record could not be encoded", session: sessionId() }));
      }
    }
    return lines.join("\n");
  }

  // send posts everything queued, in batches; onHide uses the transports
  // that survive the page going away.
  function send(onHide) {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    while (queue.length > 0) {
      var batch = queue.splice(0, cfg.maxBatch);
      post(batch, onHide);
    }
  }

  function post(batch, onHide) {
    var data = body(batch);
    var nav = root.navigator;
    if (onHide && nav && typeof nav.sendBeacon === "function") {
      // A beacon cannot carry headers: the key goes in the query, and
      // text/plain needs no CORS preflight.
      var beaconURL = url() + (cfg.key ? "?key=" + encodeURIComponent(cfg.key) : "");
      var blob = typeof Blob === "function" ? new Blob([data], { type: "text/plain" }) : data;
      try {
        if (nav.sendBeacon(beaconURL, blob)) {
          return;
        }
      } catch (e) {
        // fall back to fetch
      }
    }
    var f = cfg.fetch || root.fetch;
    if (typeof f !== "function") {
      return;
    }
    var headers = { "Content-Type": "application/x-ndjson" };
    if (cfg.key) {
      headers["X-Blocktorch-Key"] = cfg.key;
    }
    var p;
    try {
      p = Promise.resolve(f.call(root, url(), { method: "POST", headers: headers, body: data, keepalive: data.length < 60000, credentials: "omit" }));
    } catch (e) {
      p = Promise.reject(e);
    }
    p = p.then(
      function (resp) {
        // Retry what the server could not take now; 4xx answers are final.
        if (resp && (resp.status >= 500 || resp.status === 429)) {
          requeue(batch);
        }
      },
      function () {
        requeue(batch);
      }
    );
    inflight.push(p);
    p.then(function () {
      var i = inflight.indexOf(p);
      if (i >= 0) {
        inflight.splice(i, 1);
      }
    });
  }

  function requeue(batch) {
    if (batch.retried) {
      return;
    }
    batch.retried = true;
    for (var i = batch.length - 1; i >= 0; i--) {
      queue.unshift(batch[i]);
    }
    if (queue.length > MAX_QUEUE) {
      queue.splice(MAX_QUEUE);
    }
    if (!timer && cfg) {
      timer = setTimeout(function () {
        timer = null;
        send(false);
      }, cfg.flushInterval);
    }
  }

  // flush sends what is queued and resolves when every post has finished.
  function flush() {
    if (!cfg) {
      return Promise.resolve();
    }
    send(false);
    return Promise.all(inflight.slice()).then(function () {});
  }

  function onError(ev) {
    try {
      var err = ev && ev.error;
      log("error", (ev && ev.message) || errorText(err) || "uncaught error", {
        file: ev && ev.filename,
        line: ev && ev.lineno,
        column: ev && ev.colno,
        stack: err && err.stack ? text(err.stack) : undefined,
      }, "js_error");
    } catch (e) {
      // The SDK must never throw into the page.
    }
  }

  function onRejection(ev) {
    try {
      var reason = ev && ev.reason;
      if (reason && reason.code === 4001) {
        log("warn", "wallet rejected: " + errorText(reason), { code: 4001 }, "wallet_rejected");
        return;
      }
      log("error", "unhandled rejection: " + errorText(reason), {
        stack: reason && reason.stack ? text(reason.stack) : undefined,
        code: reason && reason.code,
      }, "js_error");
    } catch (e) {
      // ignore
    }
  }

  function onHide() {
    var d = root.document;
    if (!d || d.visibilityState === "hidden") {
      send(true);
    }
  }

  function listen() {
    if (listening || typeof root.addEventListener !== "function") {
      return;
    }
    listening = true;
    if (cfg.captureErrors) {
      root.addEventListener("error", onError);
      root.addEventListener("unhandledrejection", onRejection);
    }
    var d = root.document;
    if (d && typeof d.addEventListener === "function") {
      d.addEventListener("visibilitychange", onHide);
    }
    root.addEventListener("pagehide", function () {
      send(true);
    });
  }

  // init configures the SDK: endpoint (the blocktorch URL), key (the public
  // ingest key), service (default "web"), and optionally flushInterval (ms,
  // default 2000), maxBatch (default 50), attrs (added to every record),
  // captureErrors (default true).
  function init(opts) {
    if (!opts || !opts.endpoint) {
      throw new Error("blocktorch.init: endpoint is required");
    }
    cfg = {
      endpoint: String(opts.endpoint),
      key: opts.key || "",
      service: opts.service || "web",
      flushInterval: opts.flushInterval > 0 ? opts.flushInterval : 2000,
      maxBatch: opts.maxBatch > 0 ? Math.min(opts.maxBatch, 500) : 50,
      attrs: opts.attrs || {},
      captureErrors: opts.captureErrors !== false,
      fetch: opts.fetch,
    };
    listen();
    return api;
  }

  function firstParam(params) {
    return Array.isArray(params) && params.length > 0 && params[0] && typeof params[0] === "object" ? params[0] : {};
  }

  // wrapProvider returns the EIP-1193 provider with request() observed:
  // wallet rejections (code 4001), failed calls, signature requests and the
  // hashes of submitted transactions are logged; results and errors pass
  // through unchanged.
  function wrapProvider(provider) {
    if (!provider || typeof provider.request !== "function") {
      return provider;
    }
    var request = function (args) {
      var method = args && args.method;
      var started = Date.now();
      var tx = SUBMIT_METHODS[method] ? firstParam(args.params) : {};
      var base = { method: method, chainId: provider.chainId };
      if (tx.from) {
        base.from = tx.from;
      }
      if (tx.to) {
        base.to = tx.to;
      }
      if (SIGN_METHODS[method]) {
        log("info", "signature requested: " + method, base, "signature");
      }
      return provider.request(args).then(
        function (result) {
          if (SUBMIT_METHODS[method] && typeof result === "string") {
            base.durationMs = Date.now() - started;
            base.txHash = result;
            log("info", "transaction submitted " + result, base, "tx_submitted");
          }
          return result;
        },
        function (err) {
          base.durationMs = Date.now() - started;
          base.code = err && err.code;
          if (err && err.code === 4001) {
            log("warn", "wallet rejected " + method + ": " + errorText(err), base, "wallet_rejected");
          } else {
            log("error", "RPC " + method + " failed: " + errorText(err), base, "rpc_error");
          }
          throw err;
        }
      );
    };
    if (typeof Proxy === "function") {
      return new Proxy(provider, {
        get: function (target, prop) {
          if (prop === "request") {
            return request;
          }
          var v = target[prop];
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    }
    var wrapped = Object.create(provider);
    wrapped.request = request;
    return wrapped;
  }

  var api = {
    init: init,
    wrapProvider: wrapProvider,
    log: function (level, message, attrs) {
      log(level, message, attrs, attrs && attrs.kind);
    },
    flush: flush,
    sessionId: sessionId,
  };
  return api;
});
