import type { BenchProcess } from '../processes';
import type { CapturedStatement } from './messages';
import { judgePlan, type PlanVerdict } from './plans';
import type { ScaleDialect, ScaleTarget } from './target';

/** A statement a phase ran, with its plan at the largest size and the verdict on it. */
export interface CheckedPlan extends PlanVerdict {
  phase: string;
  sql: string;
  count: number;
  maxMs: number;
  plan: string[];
}

const PLANNABLE = /^\s*(select|insert|update|delete|with)\b/i;

/** Runs each distinct statement of a phase through EXPLAIN on `site`'s own connection. */
export interface ExplainContext {
  dialect: ScaleDialect;
  /** tables big enough that reading one whole on a hot path is a fault (src/bench/scale/plans.ts) */
  largeTables: ReadonlySet<string>;
}

export async function explainAll(site: BenchProcess, context: ExplainContext, statements: CapturedStatement[], phase: string): Promise<CheckedPlan[]> {
  const plannable = statements.filter((statement) => PLANNABLE.test(statement.sql));
  const plans = await site.ask<string[][]>({ ask: 'explain', statements: plannable });
  return plannable.map((statement, i) => ({
    phase,
    sql: statement.sql.replace(/\s+/g, ' ').trim(),
    count: statement.count,
    maxMs: statement.maxMs,
    plan: plans[i]!,
    ...judgePlan(context.dialect, statement.sql, plans[i]!, context.largeTables),
  }));
}

/** The tables that hold at least `rows` rows now: the ones a plan may not read whole. */
export async function largeTablesOf(target: ScaleTarget, rows = 10_000): Promise<ExplainContext> {
  const large = new Set<string>();
  for (const table of await target.tables()) if ((await target.count(table)) >= rows) large.add(table);
  return { dialect: target.dialect, largeTables: large };
}
