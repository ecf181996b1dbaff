#!/usr/bin/env node
// Compiles src/*.sol (or --src DIR, relative to this directory) with the pinned solc-js into a
// solc standard-JSON input and output, written to build/ (or --out DIR) with sorted keys so that
// regenerating them is byte-identical. --optimize turns the optimizer on (200 runs), --via-ir
// compiles through Yul; the debugger's test fixtures are built all three ways.
// --lib UNIT (repeatable) compiles a contract of an npm package as it is published, with no
// source of our own (--src none): the oracle tests deploy Chainlink's own aggregator and proxy so.
// --solc PACKAGE picks another pinned compiler (an npm alias such as solc-0826), for library
// sources whose pragma names an exact version.
// Usage: node compile.js [--src DIR|none] [--lib UNIT]... [--solc PACKAGE] [--out DIR] [--optimize] [--via-ir]
'use strict';

const fs = require('fs');
const path = require('path');

const root = __dirname;
const usage = 'usage: node compile.js [--src DIR|none] [--lib UNIT]... [--solc PACKAGE] [--out DIR] [--optimize] [--via-ir]';

let solc = null;

function parseArgs(argv) {
  const opts = { src: 'src', libs: [], solc: 'solc', out: path.join(root, 'build'), optimize: false, viaIR: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--lib' && i + 1 < argv.length) {
      const unit = path.posix.normalize(argv[++i]);
      if (!unit.startsWith('@') || unit.includes('..')) fail(`--lib must name a file of an npm package (@scope/pkg/...)`);
      opts.libs.push(unit);
    } else if (argv[i] === '--solc' && i + 1 < argv.length) {
      opts.solc = argv[++i];
      if (!/^solc(-[0-9]+)?$/.test(opts.solc)) fail(`--solc must be solc or a pinned alias like solc-0826`);
    } else if (argv[i] === '--out' && i + 1 < argv.length) {
      opts.out = path.resolve(argv[++i]);
    } else if (argv[i] === '--src' && i + 1 < argv.length) {
      opts.src = path.posix.normalize(argv[++i].replace(/\/+$/, ''));
      if (opts.src.startsWith('..') || path.isAbsolute(opts.src)) fail(`--src must be a directory under ${root}`);
    } else if (argv[i] === '--optimize') {
      opts.optimize = true;
    } else if (argv[i] === '--via-ir') {
      opts.viaIR = true;
    } else {
      fail(`unknown argument ${argv[i]}; ${usage}`);
    }
  }
  return opts;
}

function fail(msg) {
  process.stderr.write(`compile.js: ${msg}\n`);
  process.exit(1);
}

// Source unit names are "<src>/<file>.sol" for our code and the import path itself
// ("@openzeppelin/contracts/...") for libraries, which resolve under node_modules. Another
// source directory may import the demo's own src/ (patched/ does: a new version of one
// contract beside the sources it was deployed with).
function reader(src) {
  return (unit) => {
    const own = unit.startsWith(src + '/') || unit.startsWith('src/');
    const file = own ? path.join(root, unit) : path.join(root, 'node_modules', unit);
    return fs.readFileSync(file, 'utf8');
  };
}

const outputs = [
  'abi',
  'metadata',
  'storageLayout',
  'evm.methodIdentifiers',
  'evm.bytecode.object',
  'evm.bytecode.sourceMap',
  'evm.bytecode.generatedSources',
  'evm.bytecode.linkReferences',
  'evm.deployedBytecode.object',
  'evm.deployedBytecode.sourceMap',
  'evm.deployedBytecode.generatedSources',
  'evm.deployedBytecode.immutableReferences',
  'evm.deployedBytecode.linkReferences',
];

function settings(ownUnits, opts) {
  const outputSelection = {};
  for (const unit of ownUnits) {
    outputSelection[unit] = { '*': outputs };
  }
  const s = {
    evmVersion: 'cancun',
    optimizer: { enabled: opts.optimize, runs: 200 },
    outputSelection,
  };
  if (opts.viaIR) s.viaIR = true;
  return s;
}

function compile(input, readSource) {
  const importCallback = (unit) => {
    try {
      return { contents: readSource(unit) };
    } catch (err) {
      return { error: `cannot read ${unit}: ${err.message}` };
    }
  };
  const raw = readSource
    ? solc.compile(JSON.stringify(input), { import: importCallback })
    : solc.compile(JSON.stringify(input));
  const output = JSON.parse(raw);
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) {
    process.stderr.write(e.formattedMessage || e.message);
    process.stderr.write('\n');
  }
  if (errors.length > 0) {
    fail(`${errors.length} compiler error(s)`);
  }
  return output;
}

// sortKeys returns a copy of v with every object's keys in code-unit order, so the
// written JSON does not depend on the compiler's insertion order.
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const outDir = opts.out;
  solc = require(opts.solc);
  const readSource = reader(opts.src);
  let ownUnits = [];
  if (opts.src !== 'none') {
    const srcDir = path.join(root, opts.src);
    ownUnits = fs
      .readdirSync(srcDir)
      .filter((f) => f.endsWith('.sol'))
      .sort()
      .map((f) => `${opts.src}/${f}`);
    if (ownUnits.length === 0) fail(`no .sol files in ${srcDir}`);
  }
  ownUnits = ownUnits.concat(opts.libs);
  if (ownUnits.length === 0) fail('nothing to compile: --src none needs at least one --lib');

  // First pass: let the compiler discover the imported library files.
  const discover = { language: 'Solidity', sources: {}, settings: settings(ownUnits, opts) };
  for (const unit of ownUnits) discover.sources[unit] = { content: readSource(unit) };
  discover.settings.outputSelection = { '*': { '': [] } };
  const found = compile(discover, readSource);

  // Second pass: a self-contained input holding every source, which is what gets committed
  // and what anyone can feed to solc 0.8.28 to reproduce the output.
  const input = { language: 'Solidity', sources: {}, settings: settings(ownUnits, opts) };
  for (const unit of Object.keys(found.sources).sort()) {
    input.sources[unit] = { content: readSource(unit) };
  }
  const output = compile(input, null);

  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'input.json'), JSON.stringify(sortKeys(input), null, 1) + '\n');
  fs.writeFileSync(path.join(outDir, 'output.json'), JSON.stringify(sortKeys(output), null, 1) + '\n');
  const names = [];
  for (const unit of ownUnits) names.push(...Object.keys(output.contracts[unit] || {}));
  process.stdout.write(`compiled ${names.join(', ')} with solc ${solc.version()} into ${outDir}\n`);
}

main();
