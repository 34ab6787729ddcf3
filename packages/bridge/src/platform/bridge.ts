import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock';
import { PlatformError, isAppError } from '../errors';
import type { Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';
import { BRIDGE_SESSION_COLUMNS, type BridgeSessionRow } from '../store/session-columns';
import type { AccountsClient, PlatformSession } from './accounts-client';
import { outcomeOf, type CircuitState, type PlatformMetrics } from './metrics';

/** The host site's reader, as the bridge needs it. */
export interface HostUser {
  id: string;
  name: string;
  email?: string | null;
}

export interface Bridge {
  /** After the host login (session id already regenerated). Never throws for platform failures: returns null and schedules a retry on a later page view. */
  onLogin(hostSessionId: string, user: HostUser): Promise<PlatformSession | null>;
  /**
   * Every page view of a logged-in reader. Steady state: one indexed read, no platform call. Never
   * throws for platform failures. `known` is this host session's row as the caller has just read
   * it (null: it has none), which saves the read.
   */
  platformSessionFor(hostSessionId: string, user: HostUser, known?: { row: BridgeSessionRow | null }): Promise<PlatformSession | null>;
  /** Name/email changed: a platform login with the new details; the old platform session is logged out. */
  onProfileChange(hostSessionId: string, user: HostUser): Promise<PlatformSession | null>;
  /** Host logout: the platform logout is queued durably, then delivered at once when the platform answers. */
  onLogout(hostSessionId: string): Promise<void>;
  /** Every host session of that user: platform logouts queued and delivered; the host session ids returned for the site to destroy. */
  logoutUser(hostUserId: string): Promise<{ hostSessionIds: string[] }>;
  /** Retries queued platform logouts that are due. */
  deliverPendingLogouts(): Promise<{ delivered: number; remaining: number }>;
  /** Whether this host session has logged out (its row is a tombstone). */
  hasEnded(hostSessionId: string): Promise<boolean>;
  /** Forgets rows of ended host sessions and of host sessions long expired; returns how many. */
  pruneSessions(): Promise<number>;
  /**
   * Ends the rows whose host session the session store no longer has (a flushed or restarted
   * Redis, an expired database session) and queues their platform logouts. `hostSessionExists`
   * must answer false only when it is sure: an error stops the pass and nothing is ended.
   */
  reconcile(hostSessionExists: (hostSessionId: string) => Promise<boolean>): Promise<{ checked: number; ended: number }>;
  status(): Promise<{ circuit: CircuitState; pendingLogouts: number }>;
}

export interface BridgeOptions {
  /** Re-login when the platform session has been idle this long. Default 11.5 h, inside the platform's 12 h. */
  idleReloginMs?: number | undefined;
  /** The platform ends a session after this long without activity (docs/platform-protocol.md#idle-expiry). Default 12 h. */
  platformIdleMs?: number | undefined;
  /** First wait after a failed platform call; doubles per failure. Default 5 s. */
  retryBaseMs?: number | undefined;
  /** Longest wait between retries. Default 5 min. */
  retryMaxMs?: number | undefined;
  /** last_activity_at is written at most this often per session. Default 60 s. */
  activityWriteIntervalMs?: number | undefined;
  /** A queued logout older than this is dropped undelivered. Default: platformIdleMs. */
  pendingLogoutTtlMs?: number | undefined;
  /** Queued logouts tried per deliverPendingLogouts() call. Default 100. */
  deliveryBatchSize?: number | undefined;
  /**
   * How long an instance's claim on a queued logout holds before another instance may take the
   * row over: longer than any platform call can take. Default 60 s.
   */
  deliveryLeaseMs?: number | undefined;
  /** reconcile() leaves rows active this recently alone: their session may not be saved yet. Default 5 min. */
  reconcileGraceMs?: number | undefined;
  /** Rows reconcile() checks per pass at most; the next pass goes on from there. Default 10,000. */
  reconcileBatchSize?: number | undefined;
  /**
   * A row no page view has touched for this long belongs to a host session that has expired
   * without a logout, and is pruned. Default 7 days and 12 hours: the site passes its own idle
   * lifetime plus the platform's.
   */
  forgetAfterMs?: number | undefined;
}

export interface BridgeDeps {
  db: Kysely<BridgeSchema>;
  accounts: Pick<AccountsClient, 'login' | 'logout'>;
  clock: Clock;
  logger: Logger;
  metrics?: PlatformMetrics | undefined;
  /** The breaker's state, for status() and to hold deliveries while it is open. Default: always closed. */
  circuit?: (() => CircuitState) | undefined;
  options?: BridgeOptions | undefined;
}

type SessionRow = BridgeSessionRow;
type Db = Kysely<BridgeSchema> | Transaction<BridgeSchema>;

/** Why a platform login is made: the host's login or a profile change, or what a page view found. */
type LoginReason = 'login' | 'profile' | 'missing' | 'other-user' | 'retry' | 'idle';

interface LoginOutcome {
  platform: PlatformSession | null;
  /** A platform session this login replaced and queued for logout. */
  replaced: string | null;
}

const HOUR = 60 * 60 * 1000;
const DELIVERY_CONCURRENCY = 10;
/** Longer than any request that was in flight at the logout can still take. */
const TOMBSTONE_KEEP_MS = HOUR;

function resolveOptions(options: BridgeOptions = {}): Required<BridgeOptions> {
  const platformIdleMs = options.platformIdleMs ?? 12 * HOUR;
  const resolved = {
    idleReloginMs: options.idleReloginMs ?? 11.5 * HOUR,
    platformIdleMs,
    retryBaseMs: options.retryBaseMs ?? 5_000,
    retryMaxMs: options.retryMaxMs ?? 5 * 60_000,
    activityWriteIntervalMs: options.activityWriteIntervalMs ?? 60_000,
    pendingLogoutTtlMs: options.pendingLogoutTtlMs ?? platformIdleMs,
    deliveryBatchSize: options.deliveryBatchSize ?? 100,
    deliveryLeaseMs: options.deliveryLeaseMs ?? 60_000,
    reconcileGraceMs: options.reconcileGraceMs ?? 5 * 60_000,
    reconcileBatchSize: options.reconcileBatchSize ?? 10_000,
    forgetAfterMs: options.forgetAfterMs ?? 7 * 24 * HOUR + platformIdleMs,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`bridge option ${name} must be a positive number`);
  }
  if (resolved.idleReloginMs >= platformIdleMs) throw new TypeError('idleReloginMs must be shorter than platformIdleMs');
  return resolved;
}

/** A row with no platform session yet: what a login starts from, and what a tombstone holds. */
function emptyRow(hostSessionId: string, hostUserId: string, now: number, endedAt: number | null = null): SessionRow {
  return {
    host_sid: hostSessionId,
    host_user_id: hostUserId,
    platform_user_id: null,
    platform_session: null,
    last_activity_at: now,
    retry_at: null,
    failed_attempts: 0,
    ended_at: endedAt,
  };
}

function checkUser(user: HostUser): void {
  if (typeof user?.id !== 'string' || user.id === '') throw new TypeError('a host user needs an id');
  if (typeof user.name !== 'string' || user.name.trim() === '') throw new TypeError('a host user needs a name');
}

/** 4xx answers that mean "later", not "never": the logout stays queued. */
const RETRY_LATER = new Set([401, 408, 425, 429]);

/** Any other 4xx to a logout: the platform has no such session, so there is nothing to retry. */
function nothingToLogOut(error: unknown): boolean {
  const status = error instanceof PlatformError ? error.upstreamStatus : undefined;
  return error instanceof PlatformError && error.code === 'PLATFORM_REJECTED' && status !== undefined && status >= 400 && status < 500 && !RETRY_LATER.has(status);
}

/**
 * Keeps one platform session per logged-in host session (docs/architecture.md#a-login): logs in at host login,
 * re-logs in before the platform's 12-hour idle expiry, and carries logouts through a durable
 * outbox so a platform outage never loses one. Knows nothing of HTTP or passport.
 */
export function createBridge(deps: BridgeDeps): Bridge {
  const { db, accounts, clock, logger, metrics } = deps;
  if (!db) throw new TypeError('createBridge requires a database');
  if (!accounts || typeof accounts.login !== 'function' || typeof accounts.logout !== 'function') {
    throw new TypeError('createBridge requires an accounts client');
  }
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createBridge requires a clock');
  if (!logger) throw new TypeError('createBridge requires a logger');
  const options = resolveOptions(deps.options);
  const circuit = deps.circuit ?? (() => 'closed' as const);

  /** Per host session, the login under way: concurrent page views share it instead of each logging in. */
  const loginsUnderWay = new Map<string, Promise<LoginOutcome>>();
  /** Where the next reconcile() pass goes on from. */
  let reconcileCursor = '';

  const backoff = (failures: number) => Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(failures - 1, 30));
  // Only for showing a session: the embed keeps a session alive on the platform without the
  // host seeing it, so a logout is sent whatever the host's own activity clock says.
  const stillAlive = (lastActivityAt: number, now: number) => now - lastActivityAt < options.platformIdleMs;

  function logFailure(message: string, error: unknown, extra: Record<string, unknown> = {}): void {
    // The code and status only: never the error itself, whose cause or body could carry a token.
    const fields: Record<string, unknown> = { code: isAppError(error) ? error.code : 'INTERNAL', ...extra };
    if (error instanceof PlatformError) {
      if (error.upstreamStatus !== undefined) fields.upstreamStatus = error.upstreamStatus;
      if (error.oauthError !== undefined) fields.oauthError = error.oauthError;
    }
    logger.warn(fields, message);
  }

  function readRow(hostSessionId: string): Promise<SessionRow | undefined> {
    return db.selectFrom('bridge_sessions').select(BRIDGE_SESSION_COLUMNS).where('host_sid', '=', hostSessionId).executeTakeFirst();
  }

  /** The row's platform session, if it is this user's and the platform has not idled it out. */
  function usableSession(row: SessionRow | undefined, user: HostUser, now: number): PlatformSession | null {
    if (!row || row.ended_at !== null || row.host_user_id !== user.id || !row.platform_session || !row.platform_user_id) return null;
    return stillAlive(row.last_activity_at, now) ? { userId: row.platform_user_id, session: row.platform_session } : null;
  }

  /**
   * What a page view makes of this user's row: the platform session it may show, and whether a
   * (re-)login is due first (none yet, idle for close to the platform's limit, or a retry whose time has come).
   */
  function pageViewOf(row: SessionRow, user: HostUser, now: number): { current: PlatformSession | null; due: boolean } {
    const current = usableSession(row, user, now);
    const due = row.retry_at === null ? !current || now - row.last_activity_at >= options.idleReloginMs : now >= row.retry_at;
    return { current, due };
  }

  async function queueLogout(trx: Db, session: string, now: number): Promise<void> {
    await trx
      .insertInto('pending_logouts')
      .values({ platform_session: session, attempts: 0, next_attempt_at: now, created_at: now, claim_token: null, claimed_until: null })
      .onConflict((oc) => oc.column('platform_session').doNothing())
      .execute();
  }

  async function countPending(): Promise<number> {
    const row = await db.selectFrom('pending_logouts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** A page's view of the row, writing last_activity_at at most once a minute. */
  async function present(row: SessionRow, session: PlatformSession, now: number): Promise<PlatformSession> {
    if (now - row.last_activity_at >= options.activityWriteIntervalMs) {
      await db.updateTable('bridge_sessions').set({ last_activity_at: now }).where('host_sid', '=', row.host_sid).execute();
    }
    return session;
  }

  /** Joins the login under way for this host session, or starts one. */
  function joinLogin(hostSessionId: string, task: () => Promise<LoginOutcome>): Promise<LoginOutcome> {
    return loginsUnderWay.get(hostSessionId) ?? startLogin(hostSessionId, task);
  }

  /** Starts a login after the one under way (if any): a profile change must reach the platform. */
  function startLogin(hostSessionId: string, task: () => Promise<LoginOutcome>): Promise<LoginOutcome> {
    const before = loginsUnderWay.get(hostSessionId);
    const run: Promise<LoginOutcome> = (before ? before.catch(() => null).then(task) : task()).finally(() => {
      if (loginsUnderWay.get(hostSessionId) === run) loginsUnderWay.delete(hostSessionId);
    });
    loginsUnderWay.set(hostSessionId, run);
    return run;
  }

  /**
   * The row this host session logs in with, or null when the session has logged out (a request
   * that was in flight at the logout). A row left by another user (which a regenerated session id
   * rules out, but a shared database may not) is reset, its platform session queued for logout.
   * Writing the row before the platform call means a logout that comes meanwhile ends it, and the
   * login's conditional update then sees that.
   */
  function claimRow(hostSessionId: string, user: HostUser): Promise<SessionRow | null> {
    const now = clock.now();
    const fresh = emptyRow(hostSessionId, user.id, now);
    const { host_sid: _key, ...reset } = fresh;
    return db.transaction().execute(async (trx) => {
      // A write first (a no-op when the row exists): SQLite then holds the write lock for the
      // whole transaction instead of failing on a read snapshot another process made stale.
      const inserted = await trx.insertInto('bridge_sessions').values(fresh).onConflict((oc) => oc.column('host_sid').doNothing()).executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return fresh;
      const row = await trx.selectFrom('bridge_sessions').selectAll().where('host_sid', '=', hostSessionId).executeTakeFirstOrThrow();
      if (row.ended_at !== null) return null;
      if (row.host_user_id === user.id) return row;
      // Never over a tombstone: a logout that committed since the read above stands.
      const updated = await trx.updateTable('bridge_sessions').set(reset).where('host_sid', '=', hostSessionId).where('ended_at', 'is', null).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return null;
      if (row.platform_session) await queueLogout(trx, row.platform_session, now);
      return fresh;
    });
  }

  async function loginToPlatform(hostSessionId: string, user: HostUser, reason: LoginReason): Promise<LoginOutcome> {
    const previous = await claimRow(hostSessionId, user);
    if (!previous) return { platform: null, replaced: null };
    // A page view decided on a read made before another login for this session finished (the
    // login it would have joined ended while its read was in flight): that login stands.
    if (reason !== 'login' && reason !== 'profile') {
      const view = pageViewOf(previous, user, clock.now());
      if (!view.due) return { platform: view.current, replaced: null };
    }
    let fresh: PlatformSession;
    try {
      fresh = await accounts.login({ id: user.id, name: user.name, email: user.email ?? null });
    } catch (error) {
      metrics?.logins.inc({ outcome: outcomeOf(error) });
      const failedAttempts = previous.failed_attempts + 1;
      const retryAt = clock.now() + backoff(failedAttempts);
      logFailure('platform login failed; a later page view retries', error, { reason, failedAttempts });
      const marked = await db
        .updateTable('bridge_sessions')
        .set({ retry_at: retryAt, failed_attempts: failedAttempts })
        .where('host_sid', '=', hostSessionId)
        .where('host_user_id', '=', user.id)
        .where('ended_at', 'is', null)
        .executeTakeFirst();
      // Until the retry succeeds, a session the platform still honours is better than none;
      // unless a logout got there meanwhile (no row was marked), which stands.
      const rowStillLive = Number(marked.numUpdatedRows) === 1;
      return { platform: rowStillLive ? usableSession(previous, user, clock.now()) : null, replaced: null };
    }
    metrics?.logins.inc({ outcome: 'ok' });

    const now = clock.now();
    const { won, replaced } = await db.transaction().execute(async (trx) => {
      // Only over the row this login started from: if a logout or another login got there
      // first, that one stands and the session just opened is the one to log out.
      let update = trx
        .updateTable('bridge_sessions')
        .set({ platform_user_id: fresh.userId, platform_session: fresh.session, last_activity_at: now, retry_at: null, failed_attempts: 0 })
        .where('host_sid', '=', hostSessionId)
        .where('host_user_id', '=', user.id)
        .where('ended_at', 'is', null);
      update =
        previous.platform_session === null
          ? update.where('platform_session', 'is', null)
          : update.where('platform_session', '=', previous.platform_session);
      const result = await update.executeTakeFirst();
      const won = Number(result.numUpdatedRows) === 1;
      let toLogOut: string | null = fresh.session;
      if (won) {
        const old = previous.platform_session;
        toLogOut = old !== null && old !== fresh.session ? old : null;
      }
      if (toLogOut !== null) await queueLogout(trx, toLogOut, now);
      return { won, replaced: toLogOut };
    });
    if (won) return { platform: fresh, replaced };
    return { platform: usableSession(await readRow(hostSessionId), user, now), replaced };
  }

  /**
   * Claims queued logouts for this caller: rows that are due (or just the ones named) and that
   * no other instance holds. One conditional UPDATE: of several instances claiming at once, each
   * row goes to exactly one, because the claim condition is checked again on the row it writes.
   */
  async function claim(which: { due: number } | { session: string }): Promise<{ token: string; sessions: string[] }> {
    const now = clock.now();
    const token = randomUUID();
    const unclaimed = (eb: ExpressionBuilder<BridgeSchema, 'pending_logouts'>) =>
      eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]);
    let update = db
      .updateTable('pending_logouts')
      .set({ claim_token: token, claimed_until: now + options.deliveryLeaseMs })
      .where(unclaimed);
    update =
      'session' in which
        ? update.where('platform_session', '=', which.session)
        : update.where('platform_session', 'in', (eb) =>
            eb
              .selectFrom('pending_logouts')
              .select('platform_session')
              .where('next_attempt_at', '<=', now)
              .where(unclaimed)
              .orderBy('next_attempt_at')
              .limit(which.due),
          );
    const rows = await update.returning('platform_session').execute();
    return { token, sessions: rows.map((row) => row.platform_session) };
  }

  /** One claimed logout to the platform; the outbox row goes once it is delivered or pointless. */
  async function deliverClaimed(session: string, token: string): Promise<'delivered' | 'dropped' | 'kept'> {
    const ours = () => db.deleteFrom('pending_logouts').where('platform_session', '=', session).where('claim_token', '=', token).execute();
    try {
      await accounts.logout(session);
    } catch (error) {
      if (nothingToLogOut(error)) {
        await ours();
        metrics?.logouts.inc({ outcome: 'dropped' });
        logFailure('platform logout refused; nothing left to log out', error);
        return 'dropped';
      }
      const row = await db.selectFrom('pending_logouts').select('attempts').where('platform_session', '=', session).where('claim_token', '=', token).executeTakeFirst();
      if (row) {
        const attempts = row.attempts + 1;
        await db
          .updateTable('pending_logouts')
          .set({ attempts, next_attempt_at: clock.now() + backoff(attempts), claim_token: null, claimed_until: null })
          .where('platform_session', '=', session)
          .where('claim_token', '=', token)
          .execute();
      }
      metrics?.logouts.inc({ outcome: outcomeOf(error) });
      logFailure('platform logout failed; kept for a retry', error, { attempts: (row?.attempts ?? 0) + 1 });
      return 'kept';
    }
    await ours();
    metrics?.logouts.inc({ outcome: 'ok' });
    return 'delivered';
  }

  /** A logout just queued, sent now unless another instance has already claimed it. */
  async function deliverNow(session: string): Promise<void> {
    const { token, sessions } = await claim({ session });
    if (sessions.length === 1) await deliverClaimed(session, token);
  }

  /**
   * Ends host sessions' rows, one host session's or every one of a user's, and queues their
   * platform logouts, in the caller's transaction. Each row becomes a tombstone, so the platform
   * session is forgotten exactly once. The delete comes first: a transaction that starts by
   * writing takes SQLite's write lock at once instead of failing on a stale read snapshot.
   * Ending one host session leaves a tombstone even when it had no row, so a page view already
   * under way cannot create one and log the reader back in.
   */
  async function endRows(trx: Db, which: { hostSessionId: string } | { hostUserId: string }, now: number): Promise<Array<{ host_sid: string; platform_session: string | null }>> {
    const oneSession = 'hostSessionId' in which;
    const ended = await trx
      .deleteFrom('bridge_sessions')
      .where(oneSession ? 'host_sid' : 'host_user_id', '=', oneSession ? which.hostSessionId : which.hostUserId)
      .where('ended_at', 'is', null)
      .returning(['host_sid', 'host_user_id', 'platform_session', 'last_activity_at'])
      .execute();
    const tombstones = ended.map((row) => emptyRow(row.host_sid, row.host_user_id, row.last_activity_at, now));
    if (oneSession && ended.length === 0) tombstones.push(emptyRow(which.hostSessionId, '', now, now));
    if (tombstones.length > 0) {
      await trx.insertInto('bridge_sessions').values(tombstones).onConflict((oc) => oc.column('host_sid').doNothing()).execute();
    }
    for (const row of ended) if (row.platform_session) await queueLogout(trx, row.platform_session, now);
    return ended;
  }

  /** Hands claimed rows back untouched. */
  async function release(sessions: string[], token: string): Promise<void> {
    await db
      .updateTable('pending_logouts')
      .set({ claim_token: null, claimed_until: null })
      .where('platform_session', 'in', sessions)
      .where('claim_token', '=', token)
      .execute();
  }

  metrics?.watchPendingLogouts(countPending);

  return {
    async onLogin(hostSessionId, user) {
      checkUser(user);
      return (await joinLogin(hostSessionId, () => loginToPlatform(hostSessionId, user, 'login'))).platform;
    },

    async platformSessionFor(hostSessionId, user, known) {
      checkUser(user);
      const row = known ? (known.row ?? undefined) : await readRow(hostSessionId);
      const now = clock.now();
      if (row?.ended_at != null) return null;
      if (row && row.host_user_id === user.id) {
        const { current, due } = pageViewOf(row, user, now);
        if (!due) return current ? present(row, current, now) : null;
      }
      const reason: LoginReason = !row ? 'missing' : row.host_user_id !== user.id ? 'other-user' : row.retry_at !== null ? 'retry' : 'idle';
      return (await joinLogin(hostSessionId, () => loginToPlatform(hostSessionId, user, reason))).platform;
    },

    async onProfileChange(hostSessionId, user) {
      checkUser(user);
      const outcome = await startLogin(hostSessionId, () => loginToPlatform(hostSessionId, user, 'profile'));
      // The old session showed the old name: log it out now rather than at the next delivery run.
      if (outcome.replaced) await deliverNow(outcome.replaced);
      return outcome.platform;
    },

    async onLogout(hostSessionId) {
      // A login still under way for this session would otherwise land after the logout.
      await loginsUnderWay.get(hostSessionId)?.catch(() => null);
      const now = clock.now();
      const session = await db.transaction().execute(async (trx) => (await endRows(trx, { hostSessionId }, now))[0]?.platform_session ?? null);
      if (session) await deliverNow(session);
    },

    async logoutUser(hostUserId) {
      if (typeof hostUserId !== 'string' || hostUserId === '') throw new TypeError('logoutUser needs a host user id');
      const now = clock.now();
      const rows = await db.transaction().execute((trx) => endRows(trx, { hostUserId }, now));
      await Promise.all(rows.flatMap((row) => (row.platform_session ? [deliverNow(row.platform_session)] : [])));
      return { hostSessionIds: rows.map((row) => row.host_sid) };
    },

    async deliverPendingLogouts() {
      const now = clock.now();
      // With no page rendering it any more, a session left this long has idled out on the
      // platform (docs/platform-protocol.md#idle-expiry: 12 hours without activity), so the outbox does not grow without end.
      const expired = await db.deleteFrom('pending_logouts').where('created_at', '<=', now - options.pendingLogoutTtlMs).executeTakeFirst();
      const expiredCount = Number(expired.numDeletedRows);
      if (expiredCount > 0) {
        metrics?.logouts.inc({ outcome: 'expired' }, expiredCount);
        logger.warn({ code: 'PLATFORM_UNAVAILABLE', expired: expiredCount }, 'queued platform logouts expired undelivered');
      }
      let delivered = 0;
      // An open circuit would refuse every call: leave the rows on their schedule.
      while (circuit() !== 'open') {
        // Half-open lets one trial call through: claim one, not a batch the breaker would refuse.
        const wanted = circuit() === 'closed' ? options.deliveryBatchSize : 1;
        const { token, sessions } = await claim({ due: wanted });
        if (sessions.length === 0) break;
        let next = 0;
        while (next < sessions.length) {
          const state = circuit();
          if (state === 'open') break;
          const batch = sessions.slice(next, next + (state === 'closed' ? DELIVERY_CONCURRENCY : 1));
          next += batch.length;
          const results = await Promise.all(batch.map((session) => deliverClaimed(session, token)));
          delivered += results.filter((result) => result === 'delivered').length;
        }
        // What the circuit kept from being sent goes back for the next run, or for another instance.
        if (next < sessions.length) await release(sessions.slice(next), token);
        if (sessions.length < wanted) break;
      }
      return { delivered, remaining: await countPending() };
    },

    async hasEnded(hostSessionId) {
      const row = await db.selectFrom('bridge_sessions').select('ended_at').where('host_sid', '=', hostSessionId).executeTakeFirst();
      return row?.ended_at != null;
    },

    async pruneSessions() {
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        const tombstones = await trx.deleteFrom('bridge_sessions').where('ended_at', '<=', now - TOMBSTONE_KEEP_MS).executeTakeFirst();
        // The embed may still be keeping such a platform session alive: it is logged out, not just forgotten.
        const abandoned = await trx
          .deleteFrom('bridge_sessions')
          .where('ended_at', 'is', null)
          .where('last_activity_at', '<=', now - options.forgetAfterMs)
          .returning('platform_session')
          .execute();
        for (const row of abandoned) if (row.platform_session) await queueLogout(trx, row.platform_session, now);
        return Number(tombstones.numDeletedRows) + abandoned.length;
      });
    },

    async reconcile(hostSessionExists) {
      const now = clock.now();
      let checked = 0;
      let ended = 0;
      const pageSize = Math.min(200, options.reconcileBatchSize);
      while (checked < options.reconcileBatchSize) {
        const page = await db
          .selectFrom('bridge_sessions')
          .select('host_sid')
          .where('host_sid', '>', reconcileCursor)
          .where('ended_at', 'is', null)
          .where('last_activity_at', '<=', now - options.reconcileGraceMs)
          .orderBy('host_sid')
          .limit(pageSize)
          .execute();
        // Any answer but a sure "no" (an error, a timeout) ends the pass with nothing ended.
        const exists = await Promise.all(page.map((row) => hostSessionExists(row.host_sid)));
        for (const [i, row] of page.entries()) {
          if (exists[i]) continue;
          const session = await db.transaction().execute(async (trx) => (await endRows(trx, { hostSessionId: row.host_sid }, now))[0]?.platform_session ?? null);
          if (session) ended += 1;
        }
        checked += page.length;
        if (page.length < pageSize) {
          reconcileCursor = '';
          break;
        }
        reconcileCursor = page[page.length - 1]!.host_sid;
      }
      if (ended > 0) logger.info({ ended }, 'host sessions gone from the session store: their platform sessions are queued for logout');
      return { checked, ended };
    },

    async status() {
      return { circuit: circuit(), pendingLogouts: await countPending() };
    },
  };
}
