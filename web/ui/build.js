// build.js copies the chart library's distribution files and our own
// scripts and styles into internal/web/ui/dist, which the Go binary embeds.
// There is no bundler: the files are small and loaded as they are, as
// classic deferred scripts sharing the window.bt namespace (bt.js first).
// No list of files is kept anywhere: every file of src is copied, each page
// template names the ones it loads ({{asset "x.js"}}), and the server
// refuses to start when a named file is missing from the binary.
'use strict';
const fs = require('fs');
const path = require('path');

const out = path.join(__dirname, '..', '..', 'internal', 'web', 'ui', 'dist');
const files = [
  [require.resolve('uplot/dist/uPlot.iife.min.js'), 'uPlot.iife.min.js'],
  [require.resolve('uplot/dist/uPlot.min.css'), 'uPlot.min.css'],
];
for (const name of fs.readdirSync(path.join(__dirname, 'src')).sort()) {
  if (/\.(js|css|svg)$/.test(name)) files.push([path.join(__dirname, 'src', name), name]);
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
for (const [src, name] of files) {
  fs.copyFileSync(src, path.join(out, name));
}
console.log(`ui: ${files.length} files in ${path.relative(process.cwd(), out)}`);
