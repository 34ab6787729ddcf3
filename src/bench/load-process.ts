import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { LoadRequest, LoadResult } from './load';

/**
 * The load generator, in a process of its own: its CPU is never the server's. Takes one
 * LoadRequest as JSON in argv, answers one LoadResult over IPC. Uses wrk where it is installed
 * (one thread, microsecond latencies, far less CPU than a Node client), autocannon otherwise and
 * for runs at a fixed rate, which wrk cannot do.
 */
const WRK = '/usr/bin/wrk';

/** wrk's report as JSON: requests, seconds, failures and latency percentiles in microseconds. */
const WRK_REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"micros":%d,"bad":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;

async function withWrk(job: LoadRequest): Promise<Omit<LoadResult, 'tool'>> {
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vf-wrk-')), 'report.lua');
  fs.writeFileSync(script, WRK_REPORT);
  const headers = Object.entries(job.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const args = ['-t1', `-c${job.connections}`, `-d${job.seconds}s`, '-s', script, ...headers, job.url];
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(WRK, args, { timeout: (job.seconds + 30) * 1000 }, (error, out) => (error ? reject(error) : resolve(out))),
  );
  fs.rmSync(path.dirname(script), { recursive: true, force: true });
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
  const ms = (micros: number) => micros / 1000;
  return {
    requests: report['requests']!,
    seconds: report['micros']! / 1e6,
    bad: report['bad']!,
    latency: { p50: ms(report['p50']!), p90: ms(report['p90']!), p99: ms(report['p99']!), p999: ms(report['p999']!), max: ms(report['max']!) },
  };
}

async function withAutocannon(job: LoadRequest): Promise<Omit<LoadResult, 'tool'>> {
  const result = await autocannon({
    url: job.url,
    headers: job.headers,
    connections: job.connections,
    duration: job.seconds,
    ...(job.overallRate ? { overallRate: job.overallRate } : {}),
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    bad: result.non2xx + result.errors + result.timeouts,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, p999: result.latency.p99_9, max: result.latency.max },
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as LoadRequest;
  const useWrk = !job.overallRate && process.env['BENCH_LOAD'] !== 'autocannon' && fs.existsSync(WRK);
  const answer = await (useWrk ? withWrk(job) : withAutocannon(job));
  const result: LoadResult = { ...answer, tool: useWrk ? 'wrk' : 'autocannon' };
  process.send?.(result);
  process.disconnect?.();
}

void main();
