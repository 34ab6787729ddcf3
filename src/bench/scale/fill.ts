/**
 * Fills a scale database with N readers the way a large publisher's looks (bench/scale.md): each
 * reader has two host sessions and two bridge rows, and a tenth as many platform logouts are queued.
 * The rows are made by the database itself (`generate_series`, a recursive CTE on SQLite) in
 * chunks, so a million readers take seconds, not the hours a million HTTP registrations would.
 *
 * Reader i's second session is, by i % 20: 0 logged out two hours ago (a tombstone, no host
 * session), 1 abandoned eight days ago (expired host session), 2 gone from the session store an
 * hour ago (reconciliation ends it); otherwise live. The first session is always live. One reader
 * in a hundred holds an email link, half of them expired.
 */
import type { ScaleTarget } from './target';

export const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const CHUNK = 100_000;
/** What one reader's session holds, as express-session and passport leave it after a login. */
const CSRF = 'c'.repeat(128);
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

export interface FillPlan {
  readers: number;
  now: number;
  /** an argon2id hash of the bench password: every filled reader can log in */
  passwordHash: string;
}

/** The series i = from..to as a row source named n(i), in the target's dialect. */
function series(target: ScaleTarget): string {
  return target.dialect === 'postgres'
    ? 'generate_series(cast(? as bigint), cast(? as bigint)) as n(i)'
    : '(with recursive s(i) as (select cast(? as integer) union all select i + 1 from s where i < ?) select i from s) as n';
}

/** Which of reader i's two sessions (k = 0, 1) the session store still holds. */
const SESSION_KEPT = 'not (k = 1 and (i % 20 = 0 or i % 20 = 2))';

/** Reader i's session k as the store keeps it, with two fixed tails. */
const SESS_JSON =
  `'{"cookie":{"originalMaxAge":604800000,"expires":"' || ? || '","secure":false,"httpOnly":true,"path":"/","sameSite":"lax"},"passport":{"user":' || i || '},"startedAt":' || ? || ',"cv":1,"csrfToken":"' || ? || '"}'`;

/** The statements that fill readers from..to, each with its parameters before the series bounds. */
function fillStatements(target: ScaleTarget, plan: FillPlan): Array<{ sql: string; before: unknown[] }> {
  const { now } = plan;
  const both = `(select i, k from ${series(target)} cross join (select 0 as k union all select 1) as two) as s`;
  // Parameters inside CASE are cast: PostgreSQL would otherwise take them for text.
  const n = 'cast(? as bigint)';
  const activity = `case when k = 0 then ${n} - (i * 7919) % ${n} when i % 20 = 0 then ${n} when i % 20 = 1 then ${n} - (i % 1000) * 1000 when i % 20 = 2 then ${n} else ${n} - (i * 104729) % ${n} end`;
  return [
    {
      sql: `insert into users (id, email, name, password_hash, created_at, updated_at, email_verified_at, role, credentials_version)
            select i, 'reader' || i || '@scale.example', 'Reader ' || i, ?, ?, ?, ?, 'reader', 1 from ${series(target)}`,
      before: [plan.passwordHash, now - 30 * DAY, now - 30 * DAY, now - 30 * DAY],
    },
    {
      sql: `insert into sessions (sid, sess, expires_at, user_id)
            select bench_sid(i, k), ${SESS_JSON}, case when k = 1 and i % 20 = 1 then cast(? as bigint) else cast(? as bigint) end, i from ${both} where ${SESSION_KEPT}`,
      before: [new Date(now + 7 * DAY).toISOString(), now - DAY, CSRF, now - DAY, now + 7 * DAY],
    },
    {
      sql: `insert into user_sessions (public_id, sid, user_id, started_at, user_agent, network)
            select substr(bench_sid(i, k + 2), 1, 22), bench_sid(i, k), i, ?, ?, '203.0.113.0/24' from ${both} where ${SESSION_KEPT}`,
      before: [now - DAY, USER_AGENT],
    },
    {
      sql: `insert into vf_bridge_sessions (host_sid, host_user_id, platform_user_id, platform_session, last_activity_at, retry_at, failed_attempts, ended_at)
            select bench_sid(i, k), '' || i,
                   case when k = 1 and i % 20 = 0 then null else 'pu' || i end,
                   case when k = 1 and i % 20 = 0 then null else 'ps' || i || '-' || k end,
                   ${activity}, null, 0,
                   case when k = 1 and i % 20 = 0 then ${n} else null end
            from ${both}`,
      before: [now, 11 * HOUR, now - 2 * HOUR, now - 8 * DAY, now - HOUR, now, 11 * HOUR, now - 2 * HOUR],
    },
  ];
}

/** One reader in a hundred has an unused email link; half of those have expired (pruning removes them). */
function accountTokenStatement(target: ScaleTarget, now: number): { sql: string; before: unknown[] } {
  return {
    sql: `insert into account_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
          select bench_sid(i, 9), i * 100, 'verify_email', 'reader' || (i * 100) || '@scale.example', ?, case when i % 2 = 0 then cast(? as bigint) else cast(? as bigint) end
          from ${series(target)}`,
    before: [now - DAY, now - HOUR, now + DAY],
  };
}

/** Queued logouts numbered from..to, due now; `tag` keeps a second fill's sessions apart from the first's. */
function outboxStatement(target: ScaleTarget, now: number, tag: string): { sql: string; before: unknown[] } {
  return {
    sql: `insert into vf_pending_logouts (platform_session, attempts, next_attempt_at, created_at, claim_token, claimed_until)
          select 'pq' || ? || '-' || i, 0, ?, ?, null, null from ${series(target)}`,
    before: [tag, now, now - 60_000],
  };
}

async function inChunks(target: ScaleTarget, count: number, statement: { sql: string; before: unknown[] }): Promise<void> {
  for (let from = 1; from <= count; from += CHUNK) {
    await target.execute(statement.sql, [...statement.before, from, Math.min(count, from + CHUNK - 1)]);
  }
}

/** Fills an empty, migrated database; returns how long it took in ms. */
export async function fillReaders(target: ScaleTarget, plan: FillPlan): Promise<number> {
  const started = performance.now();
  for (const statement of fillStatements(target, plan)) await inChunks(target, plan.readers, statement);
  await inChunks(target, Math.round(plan.readers / 10), outboxStatement(target, plan.now, 'a'));
  await inChunks(target, Math.round(plan.readers / 100), accountTokenStatement(target, plan.now));
  await target.afterFill(plan.readers);
  return performance.now() - started;
}

/** Queues `count` more platform logouts, due now (the second drain's backlog). */
export async function queueLogouts(target: ScaleTarget, count: number, now: number, tag: string): Promise<void> {
  await inChunks(target, count, outboxStatement(target, now, tag));
  await target.analyze();
}
