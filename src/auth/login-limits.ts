import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors';
import type { RateLimits } from './rate-limits';

/**
 * Brute-force protection: login attempts count per account and per IP before the password is
 * checked, so a burst of parallel guesses cannot all slip past the limit while the hashes run;
 * a successful login gives its points back. Past either limit every attempt, right password or
 * not, is refused until the window passes.
 */
export function createLoginGuard(limits: RateLimits) {
  return {
    /** Counts one attempt; refuses it when the IP or the account is past its limit. */
    async attemptLogin(ip: string, account: string): Promise<void> {
      const overIp = await consume(limits.loginPerIp, ip);
      if (overIp) throw new RateLimitedError(secondsOf(overIp));
      const overAccount = await consume(limits.loginPerAccount, account);
      if (overAccount) throw new RateLimitedError(secondsOf(overAccount));
    },
    /** Only failures count: a reader who gets in is not charged for it, and the account starts afresh. */
    async loginSucceeded(ip: string, account: string): Promise<void> {
      await Promise.all([limits.loginPerIp.reward(ip, 1), limits.loginPerAccount.delete(account)]);
    },
    /** Registrations count whether or not they succeed. */
    async register(ip: string): Promise<void> {
      const over = await consume(limits.registerPerIp, ip);
      if (over) throw new RateLimitedError(secondsOf(over));
    },
  };
}

export type LoginGuard = ReturnType<typeof createLoginGuard>;

/** Counts one; returns the limiter's state when that went past the limit. */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | undefined> {
  try {
    await limiter.consume(key);
    return undefined;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return rejection;
    throw rejection;
  }
}

function secondsOf(state: RateLimiterRes): number {
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}
