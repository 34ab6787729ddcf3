import autocannon from 'autocannon';
import type { LoadRequest, LoadResult } from './load';

/**
 * The load generator, in a process of its own: its CPU is never the server's. Takes one
 * LoadRequest as JSON in argv, answers one LoadResult over IPC.
 */
async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as LoadRequest;
  const result = await autocannon({
    url: job.url,
    headers: job.headers,
    connections: job.connections,
    duration: job.seconds,
    ...(job.overallRate ? { overallRate: job.overallRate } : {}),
  });
  const answer: LoadResult = {
    requests: result.requests.total,
    seconds: result.duration,
    bad: result.non2xx + result.errors + result.timeouts,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, p999: result.latency.p99_9, max: result.latency.max },
  };
  process.send?.(answer);
  process.disconnect?.();
}

void main();
