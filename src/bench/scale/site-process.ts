import v8 from 'node:v8';
import vm from 'node:vm';
import { CompiledQuery } from 'kysely';
import type { JobName } from 'vf-login-bridge';
import { openSite, type Site } from '../../site';
import { benchSiteOptions, countStatement, serveBenchSite } from '../bench-site';
import { answerQuestions } from '../child';
import { recordStatement, type CapturedStatement, type ScaleQuestion } from './messages';

// Memory is measured after a full collection: otherwise the figure is wherever the last GC left the heap.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Each statement's plan, on the site's own connection (EXPLAIN QUERY PLAN on SQLite). */
async function explainOn(site: Site, statements: CapturedStatement[]): Promise<string[][]> {
  const prefix = site.database.dialect === 'postgres' ? 'explain ' : 'explain query plan ';
  const plans: string[][] = [];
  for (const statement of statements) {
    const { rows } = await site.database.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(prefix + statement.sql, [...statement.parameters]));
    plans.push(rows.map((row) => String(row['QUERY PLAN'] ?? row['detail'] ?? JSON.stringify(row))));
  }
  return plans;
}

/**
 * One instance of the site on a scale database (src/bench/scale/main.ts), as `npm start` builds
 * it but with its background jobs run on request, so the bench can time one pass. It counts the
 * statements it runs and, while asked to, keeps each distinct one with its longest time and one
 * set of parameters, which it can run through EXPLAIN.
 */
async function main(): Promise<void> {
  const counts = { statements: 0, writes: 0, sessionWrites: 0 };
  const captured = new Map<string, CapturedStatement>();
  let capturing = false;
  const site = await openSite(
    benchSiteOptions(process.env, (statement, ran) => {
      countStatement(counts, statement);
      if (capturing) recordStatement(captured, statement, ran);
    }),
  );
  answerQuestions(async (question) => {
    const q = question as ScaleQuestion;
    if (q.ask === 'capture') {
      capturing = q.on;
      if (q.on) captured.clear();
      return [...captured.values()];
    }
    if (q.ask === 'explain') return explainOn(site, q.statements);
    if (q.ask === 'memory') {
      collectGarbage();
      return process.memoryUsage();
    }
    const started = performance.now();
    const ran = await site.jobs.run(q.job as JobName);
    return { ran, ms: performance.now() - started };
  });
  await serveBenchSite(site, counts);
}

void main();
