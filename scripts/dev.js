// `npm run dev`: tsc rebuilds the packages and the site on every change and node restarts the site on every rebuild.
// Both are the project's own tools (tsc --watch, node --watch): no extra dependency.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const children = [];
let site;

const compiler = spawn(process.execPath, [tsc, '-b', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
children.push(compiler);
compiler.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // The first clean build starts the site; node --watch restarts it after each later one.
  if (!site && /Found 0 errors/.test(chunk.toString())) {
    site = spawn(process.execPath, ['--watch', '--watch-preserve-output', 'dist/server.js'], { cwd: root, stdio: 'inherit' });
    children.push(site);
  }
});

const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
