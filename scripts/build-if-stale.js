// Builds the packages' and the site's dist/ only when a source is newer than the last build, so `npm start` on a current
// build starts in about a second. tsc itself is incremental (dist/.tsbuildinfo) when it runs.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const stamp = path.join(root, 'dist', '.tsbuildinfo');
const inputs = ['src', 'packages/bridge/src', 'packages/emulator/src', 'packages/bridge/tsconfig.json', 'packages/emulator/tsconfig.json', 'tsconfig.base.json', 'tsconfig.build.json', 'package-lock.json'];

/** The newest modification time under a path; folders count too, so a deleted file shows. */
function newest(target) {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) latest = Math.max(latest, newest(path.join(target, entry)));
  return latest;
}

const built = fs.statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changed = Math.max(...inputs.map((input) => newest(path.join(root, input))));
if (built > changed) process.exit(0);

const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
// tsc's build mode builds the library, then the emulator (which uses it), then the site.
const result = spawnSync(process.execPath, [tsc, '-b', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// tsc leaves its build info alone when nothing it emits changed: mark the build as current.
const now = new Date();
fs.utimesSync(stamp, now, now);
