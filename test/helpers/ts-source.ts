import path from 'node:path';

const TS_REGISTER = path.join(__dirname, 'ts-register.js');

/**
 * `node` arguments that run a TypeScript entry from source: the packages resolve to their `src`
 * through their `vf-source` export condition, and swc compiles each file as it loads.
 */
export function fromSource(entry: string): string[] {
  return ['--conditions=vf-source', '-r', TS_REGISTER, entry];
}
