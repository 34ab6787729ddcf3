import BetterSqlite3 from 'better-sqlite3';
import { answerQuestions, tell } from '../child';

/**
 * SQLite's write lock as another writer sees it: takes and releases it (BEGIN IMMEDIATE; COMMIT)
 * every few milliseconds while a prune or reconcile pass runs elsewhere, and reports the longest
 * wait. In a process of its own: its waits block nothing but itself.
 */
function main(): void {
  const sqlite = new BetterSqlite3(process.env['BENCH_SQLITE_FILE']!);
  sqlite.pragma('busy_timeout = 60000');
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  let longest = 0;
  let probes = 0;
  const probe = () => {
    const started = performance.now();
    begin.run();
    commit.run();
    longest = Math.max(longest, performance.now() - started);
    probes += 1;
  };
  const timer = setInterval(probe, 2);
  answerQuestions(async () => {
    clearInterval(timer);
    sqlite.close();
    return { longestMs: longest, probes };
  });
  process.on('disconnect', () => process.exit(0));
  tell({ type: 'ready', url: '' });
}

main();
