/**
 * The answer of `work`, or `onTimeout()`'s error once `ms` have passed without one. The work
 * itself is not cancelled (a frozen Redis still holds the command); the caller stops waiting.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
