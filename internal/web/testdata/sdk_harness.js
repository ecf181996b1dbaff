// Runs the browser SDK in Node with a fake window, document and wallet, posting to a real
// blocktorch ingest server. Usage: node sdk_harness.js SDK_PATH ENDPOINT
"use strict";
const [sdkPath, endpoint] = process.argv.slice(2);
const TX = "0x" + "ab".repeat(32);
const FROM = "0x" + "12".repeat(20);
const TO = "0x" + "34".repeat(20);

const listeners = {};
globalThis.window = globalThis;
globalThis.addEventListener = (type, fn) => (listeners[type] ||= []).push(fn);
globalThis.document = { visibilityState: "visible", addEventListener: (type, fn) => (listeners[type] ||= []).push(fn) };
globalThis.location = { href: "https://dapp.example/swap" };
const beacons = [];
Object.defineProperty(globalThis, "navigator", {
  configurable: true,
  value: {
    sendBeacon(url, data) {
      // A browser sends the beacon in the background; here it is a real POST.
      beacons.push(fetch(url, { method: "POST", body: data }).then((r) => r.status));
      return true;
    },
  },
});
const fire = (type, ev) => (listeners[type] || []).forEach((fn) => fn(ev));

const wallet = {
  isMetaMask: true,
  chainId: "0x539",
  async request({ method, params }) {
    switch (method) {
      case "eth_requestAccounts":
        throw Object.assign(new Error("User rejected the request."), { code: 4001 });
      case "eth_call":
        throw Object.assign(new Error("request timed out"), { code: -32603 });
      case "eth_sendTransaction":
        return TX;
      case "personal_sign":
        return "0x" + "00".repeat(65);
      default:
        return "0x1";
    }
  },
};

(async () => {
  const bt = require(sdkPath);
  bt.init({ endpoint, key: "pk_test", service: "dapp-web", flushInterval: 60000, attrs: { release: "1.4.2" } });
  for (let i = 0; i < 55; i++) bt.log("debug", "tick " + i);

  fire("error", { message: "boom", filename: "app.js", lineno: 3, colno: 7, error: new Error("boom") });
  fire("unhandledrejection", { reason: new Error("nope") });

  const eth = bt.wrapProvider(wallet);
  if (eth.isMetaMask !== true || eth.chainId !== "0x539") throw new Error("wrapped provider lost its properties");
  await eth.request({ method: "eth_requestAccounts" }).then(() => { throw new Error("rejection swallowed"); }, (e) => { if (e.code !== 4001) throw e; });
  await eth.request({ method: "eth_call", params: [{ to: TO }] }).catch((e) => { if (e.code !== -32603) throw e; });
  await eth.request({ method: "personal_sign", params: ["0x68656c6c6f", FROM] });
  const hash = await eth.request({ method: "eth_sendTransaction", params: [{ from: FROM, to: TO, value: "0x1" }] });
  if (hash !== TX) throw new Error("result changed: " + hash);
  await bt.flush();

  bt.log("info", "leaving the page");
  document.visibilityState = "hidden";
  fire("visibilitychange");
  const statuses = await Promise.all(beacons);
  process.stdout.write(JSON.stringify({ session: bt.sessionId(), beacons: statuses }) + "\n");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
