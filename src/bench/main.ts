import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { systemClock } from 'vf-login-bridge';
import { createPasswordHasher } from '../auth/passwords';
import { createAccountsClient, createTokenClient } from 'vf-login-bridge';
import { PROJECT_ROOT } from '../web/render';
import type { EmulatorStats } from 'vf-platform-emulator';
import { runLoad, type LoadRequest } from './load';
import { startAdapterApps } from './adapter-apps';
import { startProcess, type BenchProcess } from './processes';
import { createScaleOutStores, scaleOutServices, type ScaleOutStores } from './scale-out-stores';
import { registerReader, timeLogins } from './reader';
import { figureTable, latencyChart, ratioOf, variantTable, type Figure, type VariantFigures } from './report';
import { ARTICLE_PATH, BENCH_API_KEY, BENCH_PASSWORD, BENCH_SITE_ID } from './settings';
import { formatSpread, spreadOf } from './summary';
import { runScale } from './scale/main';

/**
 * `npm run bench`: the page path measured from outside the site. The emulator, two sites (the
 * bridge on and off), a bare Express app with the same templates, a minimal publisher app with the
 * library's Express adapter and without it, and every load run are separate processes; the
 * variants run interleaved (A B C ... F, then F ... C B A) so a machine that slows down part-way
 * slows every variant alike. With DATABASE_URL and REDIS_URL set, one more site runs on PostgreSQL
 * (a schema of its own) with its sessions in Redis, and its logged-in article is a variant too.
 * README.md#performance explains each figure.
 *
 *   --quick     one short round: checks the bench works (CI), not the figures
 *   --check     exit 1 when a figure misses its goal
 *   --rounds N  rounds after the warm-up (default 6)   --seconds S  per load run (default 4)
 *   --out DIR   where results.md and latency.svg go (default bench/; with --quick a temp folder)
 */
const CONNECTIONS = 10;

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const rounds = Number(args.rounds ?? (args.quick ? 1 : 6));
  const seconds = Number(args.seconds ?? (args.quick ? 1 : 4));
  const out = args.out ?? (args.quick ? fs.mkdtempSync(path.join(os.tmpdir(), 'vf-bench-')) : path.join(PROJECT_ROOT, 'bench'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-bench-db-'));
  const started: BenchProcess[] = [];
  let scaleOutStores: ScaleOutStores | undefined;
  const start = async (script: string, env: Record<string, string>) => {
    const child = await startProcess(script, env);
    started.push(child);
    return child;
  };

  try {
    const emulator = await start('emulator-process', {});
    const siteEnv = (name: string) => ({ BENCH_API_URL: emulator.url, BENCH_EMBED_SRC: emulator.embedSrc!, BENCH_DATABASE_URL: `sqlite:${path.join(dir, `${name}.db`)}` });
    const siteOn = await start('site-process', siteEnv('bridge-on'));
    const siteOff = await start('site-process', { ...siteEnv('bridge-off'), BENCH_BRIDGE: 'off' });
    // The anonymous article on two processes that serve nothing else, alike but for the request metrics.
    const siteAnonymous = await start('site-process', siteEnv('anonymous'));
    const siteUncounted = await start('site-process', { ...siteEnv('uncounted'), BENCH_REQUEST_METRICS: 'off' });
    const bare = await start('bare-process', { BENCH_EMBED_SRC: emulator.embedSrc! });
    const adapter = await startAdapterApps(start, emulator, dir);
    const services = scaleOutServices();
    if ('skipped' in services) process.stdout.write(`logged-in article on PostgreSQL + Redis skipped: ${services.skipped}\n`);
    else scaleOutStores = await createScaleOutStores(services.databaseUrl, services.redisUrl);
    const siteScaleOut = scaleOutStores
      ? await start('site-process', { BENCH_API_URL: emulator.url, BENCH_EMBED_SRC: emulator.embedSrc!, BENCH_DATABASE_URL: scaleOutStores.databaseUrl, BENCH_REDIS_URL: scaleOutStores.redisUrl, BENCH_REDIS_PREFIX: scaleOutStores.redisKeyPrefix })
      : undefined;
    const platformStats = async (): Promise<EmulatorStats> => (await fetch(`${emulator.url}/_emulator/stats`)).json() as Promise<EmulatorStats>;
    const platformCalls = (s: EmulatorStats) => s.calls.token + s.calls.login + s.calls.logout;

    const cookieOn = await registerReader(siteOn.url, 'reader@bench.example');
    const cookieOff = await registerReader(siteOff.url, 'reader@bench.example');
    const cookieScaleOut = siteScaleOut && (await registerReader(siteScaleOut.url, 'reader@bench.example'));
    const variants = (
      [
      { name: 'bare Express + same templates', server: bare, headers: {} },
      { name: 'anonymous article', server: siteAnonymous, headers: {} },
      // Next to the anonymous article, so the two meet the same neighbours in every round (A B, then B A).
      { name: 'anonymous article, no request metrics', server: siteUncounted, headers: {} },
      { name: 'logged-in article, bridge on', server: siteOn, headers: { cookie: cookieOn } },
      { name: 'logged-in article, bridge off', server: siteOff, headers: { cookie: cookieOff } },
      { name: 'minimal app + adapter, logged in', server: adapter.with.server, headers: { cookie: adapter.with.cookie } },
      { name: 'same minimal app without it', server: adapter.without.server, headers: { cookie: adapter.without.cookie } },
      ...(siteScaleOut ? [{ name: 'logged-in article, PostgreSQL + Redis', server: siteScaleOut, headers: { cookie: cookieScaleOut! } }] : []),
      ] as Array<{ name: string; server: BenchProcess; headers: Record<string, string> }>
    ).map((variant) => ({ ...variant, figures: { name: variant.name, runs: [] } as VariantFigures }));
    const job = (variant: (typeof variants)[number], extra: Partial<LoadRequest> = {}): LoadRequest => ({
      url: variant.server.url + ARTICLE_PATH,
      headers: variant.headers,
      connections: CONNECTIONS,
      seconds,
      ...extra,
    });

    process.stdout.write(`vf-login-bridge bench: ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}\n`);
    process.stdout.write(`${rounds} rounds of ${seconds} s per variant, ${CONNECTIONS} connections, variants interleaved\n`);
    for (const variant of variants) await runLoad(job(variant, { seconds: Math.min(2, seconds) }));

    const loggedIn = variants[3]!;
    const before = { site: await siteOn.stats() };
    let loggedInRequests = 0;
    for (let round = 1; round <= rounds; round += 1) {
      // A B C ..., then ... C B A: whatever the order itself costs falls on every variant alike.
      const order = round % 2 === 1 ? variants : [...variants].reverse();
      for (const variant of order) {
        const cpuBefore = variant.server.cpuMicros();
        const callsBefore = platformCalls(await platformStats());
        const result = await runLoad(job(variant));
        const cpuMicrosPerRequest = (variant.server.cpuMicros() - cpuBefore) / result.requests;
        // One load run at a time and no logout queued anywhere: the platform calls in a run are its variant's.
        const platformCallsInRun = platformCalls(await platformStats()) - callsBefore;
        variant.figures.runs.push({ ...result, cpuMicrosPerRequest, platformCalls: platformCallsInRun });
        if (variant === loggedIn) loggedInRequests += result.requests;
      }
      process.stdout.write(`round ${round}: ${variants.map((v) => `${(v.figures.runs.at(-1)!.requests / v.figures.runs.at(-1)!.seconds).toFixed(0)}`).join(' / ')} req/s\n`);
    }
    const after = { site: await siteOn.stats() };
    // Only the logged-in runs reach this site (the anonymous ones have processes of their own).
    const statementsPerView = (after.site.statements - before.site.statements) / loggedInRequests;
    const writesPerView = (after.site.writes - before.site.writes) / loggedInRequests;
    const callsIn = (figures: VariantFigures[]) => figures.flatMap((f) => f.runs).reduce((sum, run) => sum + run.platformCalls, 0);
    const platformCallsPerView = callsIn(variants.slice(1, 5).map((v) => v.figures)) / loggedInRequests;
    const adapterRuns = variants[5]!.figures.runs;
    const platformCallsPerAdapterView = callsIn([variants[5]!.figures]) / adapterRuns.reduce((sum, run) => sum + run.requests, 0);

    // The logged-in page at 80% of its peak rate: its tail latency when the site is busy but keeping up.
    const peak = spreadOf(loggedIn.figures.runs.map((run) => run.requests / run.seconds)).median;
    const steady = await runLoad(job(loggedIn, { overallRate: Math.round(peak * 0.8), seconds: Math.max(seconds, 2) }));

    // Anonymous visitors who only look at the login form.
    const formBefore = await siteOn.stats();
    const formViews = args.quick ? 50 : 500;
    for (let i = 0; i < formViews; i += 1) await (await fetch(`${siteOn.url}/login`)).arrayBuffer();
    const formAfter = await siteOn.stats();
    const sessionWritesPerForm = (formAfter.sessionWrites - formBefore.sessionWrites) / formViews;

    // A login's own cost: its latency less the argon2id verify it is built around.
    const logins = spreadOf(await timeLogins(siteOn.url, 'reader@bench.example', args.quick ? 5 : 40));
    const hasher = createPasswordHasher();
    const hashed = await hasher.hash(BENCH_PASSWORD);
    const verifies: number[] = [];
    for (let i = 0; i < (args.quick ? 5 : 40); i += 1) {
      const t0 = performance.now();
      await hasher.verify(hashed, BENCH_PASSWORD);
      verifies.push(performance.now() - t0);
    }
    const verify = spreadOf(verifies);

    // 1,000 concurrent platform logins on a cold token cache share one token request.
    const tokensBefore = (await platformStats()).calls.token;
    const tokens = createTokenClient({ baseUrl: emulator.url, siteId: BENCH_SITE_ID, apiKey: BENCH_API_KEY, clock: systemClock, timeoutMs: 10_000 });
    const accounts = createAccountsClient({ baseUrl: emulator.url, tokens, timeoutMs: 10_000 });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => accounts.login({ id: `burst-${i}`, name: `Burst ${i}` })));
    const burstTokenCalls = (await platformStats()).calls.token - tokensBefore;

    const [bareV, anonymousV, uncountedV, onV, offV, adapterV, withoutV, scaleOutV] = variants.map((v) => v.figures) as [
      VariantFigures,
      VariantFigures,
      VariantFigures,
      VariantFigures,
      VariantFigures,
      VariantFigures,
      VariantFigures,
      VariantFigures?,
    ];
    const cpuOf = (v: VariantFigures) => spreadOf(v.runs.map((run) => run.cpuMicrosPerRequest)).median;
    const ratios = [
      { name: 'logged-in / bare', ...ratioOf(onV, bareV), goal: 0.5 },
      { name: 'anonymous / bare', ...ratioOf(anonymousV, bareV), goal: 0.75 },
      { name: 'bridge on / off', ...ratioOf(onV, offV), goal: 0.98 },
      { name: 'adapter / same app without it', ...ratioOf(adapterV, withoutV), goal: 0.95 },
      { name: 'logged-in / anonymous', ...ratioOf(onV, anonymousV), goal: undefined },
      // What counting and timing every request costs (src/web/request-metrics.ts). No goal: two
      // identical processes differ by more than this from run to run (README.md#performance).
      { name: 'request metrics on / off (anonymous)', ...ratioOf(anonymousV, uncountedV), goal: undefined },
      ...(scaleOutV
        ? [
            { name: 'logged-in on PostgreSQL + Redis / bare', ...ratioOf(scaleOutV, bareV), goal: 0.4 },
            { name: 'logged-in on PostgreSQL + Redis / on SQLite', ...ratioOf(scaleOutV, onV), goal: undefined },
          ]
        : []),
    ];
    const figures: Figure[] = [
      ...ratios.map((r) => ({
        name: r.name,
        value: `${formatSpread(r.spread, 2)}; rounds ${r.rounds.map((n) => n.toFixed(2)).join(' ')}`,
        goal: r.goal === undefined ? '' : `>= ${r.goal.toFixed(2)}`,
        met: r.goal === undefined ? undefined : r.spread.median >= r.goal,
      })),
      // Averaged over every logged-in run: the once-a-minute roll of the session's expiry and of the
      // bridge row's activity stamp (a save and an update, by each request in flight at that moment) is in it.
      {
        name: 'server CPU per anonymous view, request metrics on / off, µs',
        value: `${cpuOf(anonymousV).toFixed(0)} / ${cpuOf(uncountedV).toFixed(0)}`,
        goal: '',
        met: undefined,
      },
      { name: 'SQL statements per logged-in view', value: statementsPerView.toFixed(3), goal: '<= 1, plus the once-a-minute roll', met: statementsPerView <= 1.01 },
      { name: 'SQL writes per logged-in view', value: writesPerView.toFixed(4), goal: '0, but the once-a-minute roll', met: writesPerView < 0.01 },
      { name: 'session writes per anonymous GET /login', value: sessionWritesPerForm.toFixed(3), goal: '0', met: sessionWritesPerForm === 0 },
      { name: 'platform calls per page view', value: platformCallsPerView.toFixed(4), goal: '0', met: platformCallsPerView === 0 },
      { name: 'platform calls per adapter page view', value: platformCallsPerAdapterView.toFixed(4), goal: '0', met: platformCallsPerAdapterView === 0 },
      { name: 'token calls for 1,000 cold concurrent logins', value: String(burstTokenCalls), goal: '1', met: burstTokenCalls === 1 },
      {
        name: 'login latency minus argon2id verify, median ms',
        value: `${(logins.median - verify.median).toFixed(2)} (login ${formatSpread(logins, 1)}, verify ${formatSpread(verify, 1)})`,
        goal: '<= 2',
        met: logins.median - verify.median <= 2,
      },
      {
        name: `logged-in p99 at 80% of peak (${Math.round(peak * 0.8)} req/s), ms`,
        value: `p99 ${steady.latency.p99.toFixed(2)}, p50 ${steady.latency.p50.toFixed(2)}`,
        goal: '<= 3x p50',
        met: steady.latency.p99 <= 3 * Math.max(steady.latency.p50, 1),
      },
    ];

    const tools = [...new Set(variants.flatMap((v) => v.figures.runs.map((run) => run.tool)))].join(' and ');
    const lines = [
      `# Bench results`,
      '',
      `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load average at the end ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}; ` +
        `${rounds} interleaved rounds of ${seconds} s, ${CONNECTIONS} connections, load from ${tools} (the 80% run: autocannon); medians with (min-max).`,
      '',
      ...figureTable(figures),
      '',
      ...variantTable(variants.map((v) => v.figures)),
      '',
      '![latency percentiles per variant](latency.svg)',
      '',
    ];
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'results.md'), lines.join('\n'));
    fs.writeFileSync(path.join(out, 'latency.svg'), latencyChart(variants.map((v) => v.figures)));
    process.stdout.write(`\n${lines.slice(4, -2).join('\n')}\n\nwritten to ${path.join(out, 'results.md')} and latency.svg\n`);
    const missed = figures.filter((f) => f.met === false);
    if (args.check && missed.length > 0) {
      process.stderr.write(`${missed.length} figure(s) missed their goal: ${missed.map((f) => f.name).join('; ')}\n`);
      process.exitCode = 1;
    }
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
    await scaleOutStores?.drop();
  }
}

// `--scale[=quick]`: the database at 10k, 100k and 1M readers instead (src/bench/scale/main.ts).
const scaleMode = process.argv.slice(2).some((arg) => /^--scale(=|$)/.test(arg));
(scaleMode ? runScale(process.argv.slice(2)) : main()).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
