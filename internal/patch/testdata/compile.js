// Compiles testdata/src/*.sol with the demo's pinned solc-js (run from internal/demo/contracts, whose
// node_modules hold solc and @openzeppelin/contracts) into a solc standard-JSON input and output,
// written to the directory given as the first argument as input.json and output.json.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(process.cwd(), 'node_modules', 'solc'));

const out = process.argv[2];
const srcDir = path.join(__dirname, 'src');
const read = (unit) => fs.readFileSync(unit.startsWith('src/') ? path.join(__dirname, unit) : path.join(process.cwd(), 'node_modules', unit), 'utf8');
const sources = {};
for (const f of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) sources['src/' + f] = { content: read('src/' + f) };
const outputs = ['abi', 'metadata', 'storageLayout', 'evm.bytecode.object', 'evm.bytecode.sourceMap', 'evm.bytecode.linkReferences',
  'evm.deployedBytecode.object', 'evm.deployedBytecode.sourceMap', 'evm.deployedBytecode.immutableReferences',
  'evm.deployedBytecode.linkReferences', 'evm.deployedBytecode.generatedSources'];
const input = { language: 'Solidity', sources, settings: { evmVersion: 'cancun', optimizer: { enabled: false, runs: 200 }, outputSelection: { '*': { '*': outputs } } } };
// First pass finds the imports; the input written holds every source, as `blocktorch verify` wants it.
const first = JSON.parse(solc.compile(JSON.stringify(input), { import: (u) => { try { return { contents: read(u) }; } catch (e) { return { error: e.message }; } } }));
const errors = (first.errors || []).filter((e) => e.severity === 'error');
if (errors.length) { process.stderr.write(errors.map((e) => e.formattedMessage).join('\n')); process.exit(1); }
for (const unit of Object.keys(first.sources)) if (!input.sources[unit]) input.sources[unit] = { content: read(unit) };
const output = solc.compile(JSON.stringify(input));
fs.writeFileSync(path.join(out, 'input.json'), JSON.stringify(input));
fs.writeFileSync(path.join(out, 'output.json'), output);
