// solidity.js: a small Solidity tokenizer and a source view with line
// numbers, shared by the contract page and the debugger. Source text is
// attacker-controlled (anyone can verify a contract): it only ever becomes
// text nodes inside spans this file creates.
(function () {
  'use strict';

  const keywords = new Set(('pragma solidity import as from contract interface library abstract is using for function modifier ' +
    'event error struct enum constructor fallback receive returns return if else while do break continue try catch revert ' +
    'require assert emit new delete public private internal external pure view payable virtual override constant immutable ' +
    'memory storage calldata transient indexed anonymous unchecked assembly let this super true false wei gwei ether seconds ' +
    'minutes hours days weeks type unicode hex global leave switch case default').split(' '));
  const typeRe = /^(?:u?int\d{0,3}|bytes\d{0,2}|address|bool|string|byte|mapping|u?fixed[\dx]*)$/;
  const identRe = /[A-Za-z_$][\w$]*/y;
  const numRe = /(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][-+]?\d+)?)/y;

  // tokenize splits text into lines of tokens {c: class or '', t: text}.
  // Classes: kw, ty, str, com, num, fn (a name followed by "("), ev (a
  // capitalised name: contracts, events, errors). Block comments carry
  // over lines.
  function tokenize(text) {
    const lines = [];
    let inBlock = false;
    for (const src of String(text).split(/\r?\n/)) {
      const toks = [];
      const push = (c, t) => {
        if (!t) return;
        const last = toks[toks.length - 1];
        if (last && last.c === c) last.t += t; else toks.push({ c, t });
      };
      let i = 0;
      while (i < src.length) {
        if (inBlock) {
          const end = src.indexOf('*/', i);
          if (end < 0) { push('com', src.slice(i)); i = src.length; break; }
          push('com', src.slice(i, end + 2));
          i = end + 2;
          inBlock = false;
          continue;
        }
        const ch = src[i];
        if (ch === '/' && src[i + 1] === '/') { push('com', src.slice(i)); break; }
        if (ch === '/' && src[i + 1] === '*') { inBlock = true; push('com', '/*'); i += 2; continue; }
        if (ch === '"' || ch === "'") {
          let j = i + 1;
          while (j < src.length && src[j] !== ch) j += src[j] === '\\' ? 2 : 1;
          push('str', src.slice(i, Math.min(j + 1, src.length)));
          i = j + 1;
          continue;
        }
        identRe.lastIndex = i;
        let m = identRe.exec(src);
        if (m) {
          const w = m[0];
          let c = '';
          if (keywords.has(w)) c = 'kw';
          else if (typeRe.test(w)) c = 'ty';
          else if (/^\s*\(/.test(src.slice(i + w.length, i + w.length + 4))) c = /^[A-Z]/.test(w) ? 'ev' : 'fn';
          else if (/^[A-Z]/.test(w)) c = 'ev';
          push(c, w);
          i += w.length;
          continue;
        }
        numRe.lastIndex = i;
        m = numRe.exec(src);
        if (m && m[0]) { push('num', m[0]); i += m[0].length; continue; }
        push('', ch);
        i++;
      }
      lines.push(toks);
    }
    return lines;
  }

  // render draws text into el as numbered, highlighted lines and returns
  // the line elements (index 0 is line 1). opts.onLine(n, event) makes the
  // line numbers buttons.
  function render(el, text, opts) {
    opts = opts || {};
    while (el.firstChild) el.removeChild(el.firstChild);
    const box = document.createElement('div');
    box.className = 'code';
    const out = [];
    tokenize(text).forEach((toks, idx) => {
      const n = idx + 1;
      const line = document.createElement('div');
      line.className = 'line';
      line.dataset.line = String(n);
      const ln = document.createElement(opts.onLine ? 'button' : 'span');
      ln.className = 'ln';
      ln.textContent = String(n);
      if (opts.onLine) {
        ln.type = 'button';
        ln.title = opts.lineTitle || '';
        ln.addEventListener('click', (e) => opts.onLine(n, e));
      }
      const code = document.createElement('span');
      code.className = 'lc';
      for (const t of toks) {
        if (!t.c) { code.appendChild(document.createTextNode(t.t)); continue; }
        const s = document.createElement('span');
        s.className = 'tk-' + t.c;
        s.textContent = t.t;
        code.appendChild(s);
      }
      if (!toks.length) code.appendChild(document.createTextNode(' '));
      line.append(ln, code);
      box.appendChild(line);
      out.push(line);
    });
    el.appendChild(box);
    return out;
  }

  window.btSolidity = { tokenize, render };
})();
