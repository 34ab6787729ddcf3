import { RequestError } from '../errors';
import type { ReplayGuard } from './replay-guard';

/**
 * How long a handled `webhook-id` is remembered. Standard Webhooks senders retry a delivery whose
 * answer they did not get, with the same id and a fresh timestamp, for a day or more: within this
 * window such a retry has no second effect (docs/webhooks.md#duplicates).
 */
export const WEBHOOK_ID_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * How long an id is held while its logout runs. A process that dies mid-logout leaves the id
 * held only this long, after which a retry does the work.
 */
export const WEBHOOK_CLAIM_MS = 2 * 60 * 1000;

export type Delivery<T> = { duplicate: false; result: T } | { duplicate: true };

/**
 * Runs `work` for the first delivery of `webhookId` on any instance. Two keys in the replay
 * guard: `swh:<id>`, the id handled (kept WEBHOOK_ID_RETENTION_MS), and `swh-claim:<id>`, held
 * while one delivery runs the work. The first insert of a key wins in the database, so deliveries
 * at once on two instances have one effect. A failure gives the claim back, so the sender's retry
 * does the work.
 */
export async function deliverOnce<T>(guard: ReplayGuard, webhookId: string, now: () => number, work: () => Promise<T>): Promise<Delivery<T>> {
  const handled = `swh:${webhookId}`;
  const claim = `swh-claim:${webhookId}`;
  const isHandled = async () => (await guard.heldUntil(handled, now())) !== undefined;
  if (await isHandled()) return { duplicate: true };
  if (!(await guard.firstUse(claim, now() + WEBHOOK_CLAIM_MS, now()))) {
    if (await isHandled()) return { duplicate: true };
    throw new RequestError('HOOK_IN_PROGRESS', 'This webhook-id is being handled; send it again later.');
  }
  // A delivery whose claim ran out may have finished in between: its id is handled, the claim goes back.
  if (await isHandled()) {
    await guard.release(claim);
    return { duplicate: true };
  }
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await guard.release(claim).catch(() => undefined);
    throw error;
  }
  await guard.firstUse(handled, now() + WEBHOOK_ID_RETENTION_MS, now());
  await guard.release(claim);
  return { duplicate: false, result };
}
