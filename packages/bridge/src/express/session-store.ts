import session from 'express-session';

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
    if (this.inner.touch) this.inner.touch(sid, data, callback);
    else callback?.();
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
  constructor(
    inner: session.Store,
    private readonly hasEnded: (sid: string) => Promise<boolean>,
  ) {
    super(inner);
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.hasEnded(sid).then(
      (ended) => (ended ? callback?.() : this.inner.set(sid, data, callback)),
      (error: unknown) => callback?.(error),
    );
  }
}

/** Whether a value has the three methods every express-session store has. */
export function isSessionStore(value: unknown): value is session.Store {
  const v = value as Partial<session.Store> | null;
  return typeof v === 'object' && v !== null && typeof v.get === 'function' && typeof v.set === 'function' && typeof v.destroy === 'function' && typeof v.on === 'function';
}
