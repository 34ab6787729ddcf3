/**
 * The IPC protocol between `npm run bench` (src/bench/main.ts) and the processes it starts: each
 * child says `ready` once listening, and answers the `stats` question with counters of its own.
 */
export type ChildMessage =
  | { type: 'ready'; url: string; embedSrc?: string }
  | { type: 'stats'; statements: number; writes: number; sessionWrites: number }
  | { type: 'reply'; id: number; value?: unknown; error?: string };

/** `ask`: a question of a child that answers more than stats (src/bench/scale/site-process.ts). */
export type ParentMessage = { type: 'stats' } | { type: 'ask'; id: number; question: unknown };

/** Answers each `ask` with what `answer` resolves to, or the message it failed with. */
export function answerQuestions(answer: (question: unknown) => Promise<unknown>): void {
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'ask') return;
    answer(message.question).then(
      (value) => tell({ type: 'reply', id: message.id, value }),
      (error: unknown) => tell({ type: 'reply', id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

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
