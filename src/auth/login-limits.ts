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
 * no more tries than the limit; a successful login gives its points back. An attempt refused by
 * one counter leaves nothing on the others (countOrRefuse below).
 */
export function createLoginGuard(limits: RateLimits) {
  const clientKey = (a: LoginAttempt) => `${a.account}|${a.device ? `device:${a.device}` : `ip:${a.ip}`}`;
  /** The counters one attempt goes through, in order. */
  const countersFor = (a: LoginAttempt): Count[] => [
    [limits.loginPerAccountClient, clientKey(a)],
    ...(a.device
      ? []
      : ([
          [limits.loginPerIp, a.ip],
          [limits.loginPerAccount, a.account],
        ] as Count[])),
    [limits.loginCeiling, a.account],
  ];

  return {
    /** Counts one attempt; refuses it when any of its counters is past its limit. */
    async attemptLogin(attempt: LoginAttempt): Promise<void> {
      await countOrRefuse(countersFor(attempt));
    },
    /** Only failures count: the client starts afresh, and the shared counters get their point back. */
    async loginSucceeded(attempt: LoginAttempt): Promise<void> {
      const [[hard, hardKey], ...shared] = countersFor(attempt) as [Count, ...Count[]];
      await Promise.all([hard.delete(hardKey), ...shared.map(([limiter, key]) => limiter.reward(key, 1))]);
    },
    /** Registrations count whether or not they succeed. */
    async register(ip: string): Promise<void> {
      await countOrRefuse([[limits.registerPerIp, ip]]);
    },
    /**
     * Account changes (profile, email, password) count per user and per IP whether or not they
     * succeed: each one can cost platform calls, and an email change answers whether an address
     * has an account here.
     */
    async changeAccount(userId: number, ip: string): Promise<void> {
      await countOrRefuse([
        [limits.accountChangesPerUser, String(userId)],
        [limits.accountChangesPerIp, ip],
      ]);
    },
    /** A request that may mail a link (a resend, a forgotten password): counted per IP, refused past it. */
    async mailRequest(ip: string): Promise<void> {
      await countOrRefuse([[limits.mailPerIp, ip]]);
    },
    /**
     * One more mail to this address: false past its limit. Never a refusal the requester sees, so
     * the answer to "forgot your password?" says nothing about the address.
     */
    async allowMailTo(address: string): Promise<boolean> {
      return (await consume(limits.mailPerAddress, address)) === undefined;
    },
    /** Forgets the counters keyed by an account that is deleted: its address may register again at once. */
    async forgetAccount(userId: number, address: string): Promise<void> {
      await Promise.all([
        limits.accountChangesPerUser.delete(String(userId)),
        limits.loginPerAccount.delete(address),
        limits.loginCeiling.delete(address),
        limits.mailPerAddress.delete(address),
      ]);
    },
  };
}

export type LoginGuard = ReturnType<typeof createLoginGuard>;

/** One counter of an attempt, and the key the attempt counts under there. */
type Count = readonly [AttemptCounter, string];

/**
 * Counts one attempt on every one of its counters, or on none. The counters are read first, and
 * while any of them is spent nothing is written: otherwise a client past one limit would go on
 * writing to the others with every refused attempt (a per-account-client row for each new email
 * it names, points against accounts it never got to try). Two attempts can both pass the read and
 * then race for the last point; the one refused gives back every point it took, so a refusal
 * leaves no count behind either way.
 */
async function countOrRefuse(counts: readonly Count[]): Promise<void> {
  const states = await Promise.all(counts.map(([counter, key]) => counter.get(key)));
  // No points remaining: consumedPoints has reached the limit, and the next consume would be refused.
  const spent = states.filter((state): state is RateLimiterRes => state !== null && state.remainingPoints <= 0);
  if (spent.length > 0) throw refusal(spent);
  const taken: Count[] = [];
  for (const count of counts) {
    const over = await consume(...count);
    if (over) {
      // The limiter counts the attempt it refuses, so that counter gets its point back too.
      await Promise.all([...taken, count].map(([counter, key]) => counter.reward(key, 1)));
      throw refusal([over]);
    }
    taken.push(count);
  }
}

/** Retry-After is the longest wait: before it ends, one of the spent counters would still refuse. */
function refusal(spent: readonly RateLimiterRes[]): RateLimitedError {
  return new RateLimitedError(Math.max(...spent.map(secondsOf)));
}

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
