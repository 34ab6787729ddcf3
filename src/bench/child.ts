/**
 * The IPC protocol between `npm run bench` (src/bench/main.ts) and the processes it starts: each
 * child says `ready` once listening, and answers the `stats` question with counters of its own.
 */
export type ChildMessage =
  | { type: 'ready'; url: string; embedSrc?: string }
  | { type: 'stats'; statements: number; writes: number; sessionWrites: number };

export type ParentMessage = { type: 'stats' };

/** Sends to the parent; a child started without IPC (by hand) just prints. */
export function tell(message: ChildMessage): void {
  if (process.send) process.send(message);
  else process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** The parent went away (or said stop): no orphaned servers are left behind. */
export function exitWithParent(stop: () => Promise<void>): void {
  const end = () => void stop().finally(() => process.exit(0));
  process.on('disconnect', end);
  process.once('SIGTERM', end);
  process.once('SIGINT', end);
}
