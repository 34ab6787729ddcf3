import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildMessage } from './child';

export interface BenchProcess {
  readonly url: string;
  readonly embedSrc: string | undefined;
  /** user + system CPU the process has used, in microseconds (Linux /proc, 10 ms resolution) */
  cpuMicros(): number;
  stats(): Promise<Extract<ChildMessage, { type: 'stats' }>>;
  /** One question to a child that answers them (child.ts answerQuestions); rejects with its error. */
  ask<T>(question: unknown): Promise<T>;
  stop(): Promise<void>;
}

const TICK_MICROS = 1_000_000 / 100; // USER_HZ is 100 on Linux

/** Starts `dist/bench/<script>.js` and waits until it listens; its output goes nowhere, as a real log would go to a file. */
export function startProcess(script: string, env: Record<string, string>): Promise<BenchProcess> {
  // BENCH_CPU_PROF=<folder>: each process writes a CPU profile there when it exits (README.md#performance).
  const profile = process.env['BENCH_CPU_PROF'];
  const child = fork(path.join(__dirname, `${script}.js`), [], {
    execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const failed = (code: number | null) => reject(new Error(`${script} exited with ${code} before it was ready`));
    child.once('exit', failed);
    child.once('message', (message: ChildMessage) => {
      if (message.type !== 'ready') return;
      child.off('exit', failed);
      resolve(handle(child, message.url, message.embedSrc));
    });
  });
}

function handle(child: ChildProcess, url: string, embedSrc: string | undefined): BenchProcess {
  let questions = 0;
  return {
    url,
    embedSrc,
    cpuMicros() {
      // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's closing parenthesis.
      const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
    },
    stats() {
      return new Promise((resolve) => {
        const answer = (message: ChildMessage) => {
          if (message.type !== 'stats') return;
          child.off('message', answer);
          resolve(message);
        };
        child.on('message', answer);
        child.send({ type: 'stats' });
      });
    },
    ask<T>(question: unknown) {
      const id = (questions += 1);
      return new Promise<T>((resolve, reject) => {
        const answer = (message: ChildMessage) => {
          if (message.type !== 'reply' || message.id !== id) return;
          child.off('message', answer);
          if (message.error !== undefined) reject(new Error(message.error));
          else resolve(message.value as T);
        };
        child.on('message', answer);
        child.send({ type: 'ask', id, question });
      });
    },
    stop() {
      if (child.exitCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
