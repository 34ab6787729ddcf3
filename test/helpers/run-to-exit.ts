import { spawn } from 'node:child_process';
import { fromSource } from './ts-source';

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's entry points from source to its end, in `cwd`, with only PATH,
 * NODE_ENV=test and `env` in its environment; gives up (and kills it) after 20 s.
 */
export function runToExit(entry: string, args: readonly string[], env: Record<string, string>, cwd: string): Promise<Exit> {
  const child = spawn(process.execPath, [...fromSource(entry), ...args], { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} ${args.join(' ')} did not end within 20 s\n${stdout}\n${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
