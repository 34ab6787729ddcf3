import { fork } from 'node:child_process';
import path from 'node:path';

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  /** requests per second for all connections together; unset: as fast as the server answers */
  overallRate?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** non-2xx answers, socket errors and timeouts */
  bad: number;
  /** milliseconds */
  latency: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** the load generator that ran it */
  tool: 'wrk' | 'autocannon';
}

/** One load run from a fresh load-generator process. */
export function runLoad(job: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'load-process.js'), [JSON.stringify(job)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let result: LoadResult | undefined;
    child.once('message', (message: LoadResult) => (result = message));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!result) return reject(new Error(`the load generator exited with ${code} and no result`));
      if (result.bad > 0) return reject(new Error(`${job.url}: ${result.bad} of ${result.requests} requests failed`));
      resolve(result);
    });
  });
}
