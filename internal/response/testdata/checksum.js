// The Safe Transaction Builder's checksum serialization (safe-react-apps,
// apps/tx-builder/src/lib/checksum.ts), as a reference for the Go port:
// for each batch file named on the command line it prints the text whose
// keccak256 is the checksum, one JSON string per line.
'use strict';
const fs = require('fs');

const stringifyReplacer = (_, value) => (value === undefined ? null : value);

const serializeJSONObject = (json) => {
  if (Array.isArray(json)) {
    return `[${json.map((el) => serializeJSONObject(el)).join(',')}]`;
  }
  if (typeof json === 'object' && json !== null) {
    let acc = '';
    const keys = Object.keys(json).sort();
    acc += `{${JSON.stringify(keys, stringifyReplacer)}`;
    for (let i = 0; i < keys.length; i++) {
      acc += `${serializeJSONObject(json[keys[i]])},`;
    }
    return `${acc}}`;
  }
  return `${JSON.stringify(json, stringifyReplacer)}`;
};

for (const file of process.argv.slice(2)) {
  const batch = JSON.parse(fs.readFileSync(file, 'utf8'));
  const meta = { ...batch.meta, name: null };
  delete meta.checksum;
  process.stdout.write(JSON.stringify(serializeJSONObject({ ...batch, meta })) + '\n');
}
