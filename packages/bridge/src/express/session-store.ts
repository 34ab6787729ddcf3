import { randomUUID } from 'node:crypto';
import session from 'express-session';
import { AppError, isAppError } from '../errors';

type Callback = (err?: unknown) => void;

/**
 * An express-session Store that hands every call to another one, re-emitting its `connect` and
 * `disconnect` events: the base of the named decorators, so no store's method is ever replaced.
 */
export class ForwardingStore extends session.Store {
  constructor(protected readonly inner: session.Store) {
    super();
    inner.on('connect', () => this.emit('connect'));
    inner.on('disconnect', () => this.emit('disconnect'));
  }

  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    this.inner.get(sid, callback);
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.inner.set(sid, data, callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.inner.destroy(sid, callback);
  }

  /** A store without `touch` keeps its expiries as they are: so does this one. */
  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    if (this.touches) this.inner.touch!(sid, data, callback);
    else callback?.();
  }

  /** Whether a touch reaches a store that does something with it, through every decorator. */
  get touches(): boolean {
    return this.inner instanceof ForwardingStore ? this.inner.touches : typeof this.inner.touch === 'function';
  }

  /** The store beneath builds the session: one that hands the request what it read with it keeps doing so. */
  override createSession(req: Parameters<session.Store['createSession']>[0], data: session.SessionData): session.Session & session.SessionData {
    return this.inner.createSession(req, data);
  }
}

/**
 * express-session saves a modified session at the end of its request, by an upsert. A request
 * that was under way when its session was logged out elsewhere (a hook, an AJAX logout in another
 * tab, `logoutUser`) would write that session back, still logged in. Every logged-out host session
 * leaves a tombstone in the bridge; a save for such a session is dropped here
 * (docs/architecture.md#a-logout).
 */
export class LogoutAwareStore extends ForwardingStore {
  /**
   * @param guardTouches whether a touch is guarded as a save is: needed only where the store's
   * touch can write a session it does not hold (`touchCanCreate`). Default true.
   */
  constructor(
    inner: session.Store,
    private readonly hasEnded: (sid: string) => Promise<boolean>,
    private readonly guardTouches = true,
  ) {
    super(inner);
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.hasEnded(sid).then(
      (ended) => (ended ? callback?.() : this.inner.set(sid, data, callback)),
      (error: unknown) => callback?.(error),
    );
  }

  /**
   * express-session touches every unmodified session at the end of its request, and some stores
   * touch by an upsert: an ended session is not touched either, so no store can bring it back.
   */
  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    // Nothing beneath touches: nothing to guard, and no read to spend on it.
    if (!this.touches) return void callback?.();
    // A touch that only updates a session the store still holds cannot bring an ended one back.
    if (!this.guardTouches) return super.touch(sid, data, callback);
    // express-session's own callback takes an error, though the type declares none.
    const done = callback as Callback | undefined;
    this.hasEnded(sid).then(
      (ended) => (ended ? done?.() : super.touch(sid, data, callback)),
      (error: unknown) => done?.(error),
    );
  }
}

/**
 * Whether the store's touch can bring a session into being. Most stores touch by an update
 * (MemoryStore, connect-redis's EXPIRE, connect-pg-simple's UPDATE) and leave a session they do
 * not hold alone; a store that touches by writing the whole session would bring back one that
 * logged out while a request of it was under way. Asked once, with a random session id, which is
 * destroyed again if it was written; a store that cannot answer (an error, or no answer within
 * `waitMs`) is taken to write it.
 */
export async function touchCanCreate(store: session.Store, now: number, waitMs = 2_000): Promise<boolean> {
  const touch = store.touch?.bind(store);
  if (!touch) return false;
  const sid = `vf-touch-probe-${randomUUID()}`;
  const probe = { cookie: { originalMaxAge: 60_000, expires: new Date(now + 60_000), httpOnly: true, path: '/' } } as unknown as session.SessionData;
  const ask = async () => {
    await new Promise<void>((resolve, reject) => touch(sid, probe, ((error?: unknown) => (error ? reject(error) : resolve())) as () => void));
    if (!(await storeHas(store, sid))) return false;
    await storeDestroy(store, sid);
    return true;
  };
  // A store that is not answering yet (a Redis still connecting) must not hold up the app's start.
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), waitMs);
    timer.unref();
  });
  try {
    return await Promise.race([ask(), giveUp]);
  } catch {
    return true;
  } finally {
    clearTimeout(timer);
  }
}

/** The session as the store holds it, or null; a store error rejects. */
export function storeRead(store: session.Store, sid: string): Promise<session.SessionData | null> {
  return new Promise((resolve, reject) => store.get(sid, (error, data) => (error ? reject(asStoreError(error)) : resolve(data ?? null))));
}

/** Whether the store holds this session: false only on a sure "no", a store error rejects. */
export async function storeHas(store: session.Store, sid: string): Promise<boolean> {
  return (await storeRead(store, sid)) !== null;
}

/** Destroys one session in the store; a store error rejects. */
export function storeDestroy(store: session.Store, sid: string): Promise<void> {
  return new Promise((resolve, reject) => store.destroy(sid, (error) => (error ? reject(asStoreError(error)) : resolve())));
}

/**
 * A store's failure under a stable code, so logs and jobs name it whatever the store threw; one
 * that has a code already (a decorator's typed outage, DATABASE_UNAVAILABLE) keeps it.
 */
function asStoreError(error: unknown): AppError<string> {
  if (isAppError(error)) return error;
  return new AppError('SESSION_STORE_UNAVAILABLE', 'The session store did not answer.', { cause: error, status: 503 });
}

/** Whether a value has the three methods every express-session store has. */
export function isSessionStore(value: unknown): value is session.Store {
  const v = value as Partial<session.Store> | null;
  return typeof v === 'object' && v !== null && typeof v.get === 'function' && typeof v.set === 'function' && typeof v.destroy === 'function' && typeof v.on === 'function';
}
