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

/**
 * The one line said before a build, so a first start is not silent while tsc runs. In the format
 * the site's own lines will have (src/config.ts logFormatOf, which reads LOG_FORMAT, also from
 * .env): a JSON record for a log collector, the words for a person. On stderr, so the output of
 * `npm run admin` and `npm run hook` stays theirs alone.
 */
function sayBuilding() {
  const message = `Building the site from its TypeScript sources (${built ? 'a source changed since the last build' : 'no build yet'}); a first build takes about 15 s`;
  const env = { ...process.env };
  if (fs.existsSync('.env')) Object.assign(env, require('node:util').parseEnv(fs.readFileSync('.env', 'utf8')), process.env);
  const json = env.LOG_FORMAT === 'json' || (env.LOG_FORMAT !== 'pretty' && !process.stdout.isTTY && env.NODE_ENV === 'production');
  process.stderr.write(json ? `${JSON.stringify({ level: 30, time: Date.now(), msg: message })}\n` : `${message}\n`);
}

sayBuilding();
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
// tsc's build mode builds the library, then the emulator (which uses it), then the site.
const result = spawnSync(process.execPath, [tsc, '-b', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// tsc leaves its build info alone when nothing it emits changed: mark the build as current.
const now = new Date();
fs.utimesSync(stamp, now, now);
