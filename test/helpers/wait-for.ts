/**
 * Resolves once `condition` holds, checking on every turn of the event loop (and at least every
 * 5 ms); rejects with `what` after `timeoutMs`. Tests wait for what they need, never for a time
 * they hope is long enough.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
