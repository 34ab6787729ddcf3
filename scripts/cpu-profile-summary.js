// Sums a V8 .cpuprofile (node --cpu-prof) by where the time went: self time per package or
// project folder, and the hottest functions. Usage: node scripts/cpu-profile-summary.js FILE [TOP]
'use strict';
const fs = require('node:fs');

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/cpu-profile-summary.js FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i += 1) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (deltas[i] ?? 0));

function area(url, name) {
  if (!url) return name === '(garbage collector)' ? 'GC' : name === '(idle)' || name === '(program)' ? name : 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/([^/]+)/.exec(url);
  return own ? `project ${own[1]}` : url;
}

const areas = new Map();
const functions = new Map();
let total = 0;
for (const [id, micros] of self) {
  const node = byId.get(id);
  const { url, functionName, lineNumber } = node.callFrame;
  const where = area(url, functionName);
  if (where === '(idle)') continue;
  total += micros;
  areas.set(where, (areas.get(where) ?? 0) + micros);
  const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + micros);
}
const top = Number(topText ?? 25);
const print = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
process.stdout.write(`busy ${(total / 1000).toFixed(0)} ms\n`);
print('self time by area', areas);
print('hottest functions', functions);
