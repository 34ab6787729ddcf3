import { RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../errors';
import type { AttemptCounter, RateLimits } from './rate-limits';

/** Who is trying to log in to which account. */
export interface LoginAttempt {
  /** the normalised email the attempt names */
  account: string;
  ip: string;
  /** set when the browser is a known device of that account (src/auth/trusted-device.ts) */
  device?: string | undefined;
}

/**
 * Online-guessing protection in the manner of the OWASP Authentication Cheat Sheet, built so that
 * nobody can lock a reader out of their own browsers (ASVS 2.2.1):
 *
 * - hard limit, per account and client: the client is the known device, or else the IP. One
 *   client, however patient, gets this many failures per window at an account.
 * - per account and per IP, for strangers only: a distributed run against one account, or one IP
 *   against many, is stopped; a known device does not count against these and is not refused.
 * - ceiling, per account, every client: the last stop, should many known devices of one account
 *   fail at once (stolen cookies). Config keeps it above what strangers alone can reach.
 *
 * Every attempt is counted before the password is checked, so a burst of parallel guesses gets
 * no more tries than the limit; a successful login gives its points back.
 */
export function createLoginGuard(limits: RateLimits) {
  const clientKey = (a: LoginAttempt) => `${a.account}|${a.device ? `device:${a.device}` : `ip:${a.ip}`}`;
  /** The counters one attempt goes through, in order; the first one past its limit refuses. */
  const countersFor = (a: LoginAttempt): Array<[AttemptCounter, string]> => [
    [limits.loginPerAccountClient, clientKey(a)],
    ...(a.device
      ? []
      : ([
          [limits.loginPerIp, a.ip],
          [limits.loginPerAccount, a.account],
        ] as Array<[AttemptCounter, string]>)),
    [limits.loginCeiling, a.account],
  ];

  return {
    /** Counts one attempt; refuses it when any of its counters is past its limit. */
    async attemptLogin(attempt: LoginAttempt): Promise<void> {
      for (const [limiter, key] of countersFor(attempt)) {
        const over = await consume(limiter, key);
        if (over) throw new RateLimitedError(secondsOf(over));
      }
    },
    /** Only failures count: the client starts afresh, and the shared counters get their point back. */
    async loginSucceeded(attempt: LoginAttempt): Promise<void> {
      const [[hard, hardKey], ...shared] = countersFor(attempt) as [[AttemptCounter, string], ...Array<[AttemptCounter, string]>];
      await Promise.all([hard.delete(hardKey), ...shared.map(([limiter, key]) => limiter.reward(key, 1))]);
    },
    /** Registrations count whether or not they succeed. */
    async register(ip: string): Promise<void> {
      const over = await consume(limits.registerPerIp, ip);
      if (over) throw new RateLimitedError(secondsOf(over));
    },
    /**
     * Account changes (profile, email, password) count per user and per IP whether or not they
     * succeed: each one can cost platform calls, and an email change answers whether an address
     * has an account here.
     */
    async changeAccount(userId: number, ip: string): Promise<void> {
      for (const [limiter, key] of [
        [limits.accountChangesPerUser, String(userId)],
        [limits.accountChangesPerIp, ip],
      ] as const) {
        const over = await consume(limiter, key);
        if (over) throw new RateLimitedError(secondsOf(over));
      }
    },
  };
}

export type LoginGuard = ReturnType<typeof createLoginGuard>;

/** Counts one; returns the limiter's state when that went past the limit. */
async function consume(limiter: AttemptCounter, key: string): Promise<RateLimiterRes | undefined> {
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
