import { judgePlan } from '../../src/bench/scale/plans';

const large = new Set(['vf_bridge_sessions', 'vf_pending_logouts', 'sessions']);

describe('reading a plan for whole-table reads', () => {
  it('flags a SQLite full scan of a large table, not of a small one or a VALUES clause', () => {
    expect(judgePlan('sqlite', 'select * from "vf_bridge_sessions" where "last_activity_at" <= ?', ['SCAN vf_bridge_sessions'], large)).toEqual({ scans: ['vf_bridge_sessions'], ok: false });
    expect(judgePlan('sqlite', 'select * from "vf_job_leases"', ['SCAN vf_job_leases'], large).ok).toBe(true);
    expect(judgePlan('sqlite', 'insert into "vf_pending_logouts" values (?), (?)', ['SCAN 2-ROW VALUES CLAUSE'], large).ok).toBe(true);
  });

  it('takes a SQLite index search as fine, and a whole-index scan only when a LIMIT stops it', () => {
    expect(judgePlan('sqlite', 'select 1 from "sessions" where "sid" = ?', ['SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 (sid=?)'], large).ok).toBe(true);
    const throughIndex = ['SCAN vf_pending_logouts USING COVERING INDEX vf_pending_logouts_next_attempt_at'];
    expect(judgePlan('sqlite', 'select count(*) from "vf_pending_logouts"', throughIndex, large).ok).toBe(false);
    expect(judgePlan('sqlite', 'select "platform_session" from "vf_pending_logouts" order by "next_attempt_at" limit ?', throughIndex, large).ok).toBe(true);
  });

  it('flags a PostgreSQL Seq Scan unless a Limit right above it stops it early', () => {
    const counted = ['Aggregate  (cost=1.00..2.00 rows=1 width=8)', '  ->  Seq Scan on vf_pending_logouts  (cost=0.00..1.00 rows=100000 width=0)'];
    expect(judgePlan('postgres', 'select count(*) from "vf_pending_logouts"', counted, large)).toEqual({ scans: ['vf_pending_logouts'], ok: false });
    const capped = [
      'Aggregate  (cost=34.31..34.32 rows=1 width=8)',
      '  ->  Limit  (cost=0.00..20.25 rows=10001 width=32)',
      '        ->  Seq Scan on vf_pending_logouts  (cost=0.00..20.25 rows=100000 width=32)',
    ];
    expect(judgePlan('postgres', 'select count(*) from (select 1 from "vf_pending_logouts" limit $1) as "capped"', capped, large).ok).toBe(true);
  });

  it('flags a PostgreSQL Seq Scan under a join even when a subquery of the statement has a LIMIT', () => {
    const claim = [
      'Update on vf_pending_logouts  (cost=6.18..33.31 rows=100 width=77)',
      '  ->  Hash Semi Join  (cost=6.18..33.31 rows=100 width=77)',
      '        ->  Seq Scan on vf_pending_logouts  (cost=0.00..23.06 rows=1125 width=13)',
      '        ->  Hash  (cost=4.93..4.93 rows=100 width=38)',
      '              ->  Limit  (cost=0.15..3.93 rows=100 width=15)',
      '                    ->  Index Scan using vf_pending_logouts_next_attempt_at on vf_pending_logouts vf_pending_logouts_1  (cost=0.15..42.65 rows=1125 width=15)',
    ];
    expect(judgePlan('postgres', 'update "vf_pending_logouts" set x = 1 where "platform_session" in (select ... limit $1)', claim, large).scans).toEqual(['vf_pending_logouts']);
    expect(judgePlan('postgres', 'select 1 from "sessions" where "sid" = $1', ['Index Scan using sessions_pkey on sessions  (cost=0.29..8.30 rows=1 width=4)'], large).ok).toBe(true);
  });
});
