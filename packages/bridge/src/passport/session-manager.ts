import type { Request } from 'express';
import type { ViafouraBridge } from '../express/adapter';
import { storedUser } from '../express/session-user';
import type { HostUser } from '../core';

type Done = (error?: unknown) => void;

/**
 * passport's session manager (passport 0.6+, `lib/sessionmanager.js`), described by the two
 * methods `req.login` and `req.logout` call, so the library needs neither passport nor its types.
 */
export interface PassportSessionManager {
  logIn(req: Request, user: unknown, options: object, done: Done): void;
  logOut(req: Request, options: object, done: Done): void;
}

/** What the session manager needs of the adapter. */
export type PassportBridgeTarget = Pick<ViafouraBridge, 'onLogin' | 'onLogout'>;

/** passport calls both `(req, user, options, done)` and `(req, user, done)`. */
function split(optionsOrDone: object | Done, done: Done | undefined): [object, Done] {
  return typeof optionsOrDone === 'function' ? [{}, optionsOrDone as Done] : [optionsOrDone ?? {}, done!];
}

/**
 * passport's own session manager, with the platform beside it: `logIn` lets passport regenerate
 * the session and store the user, then logs the reader in to the platform under the new session
 * id; `logOut` logs the platform out first, then lets passport end the session
 * (docs/architecture.md#a-login, #a-logout). Nothing of passport is replaced.
 */
export class BridgedSessionManager implements PassportSessionManager {
  constructor(
    readonly inner: PassportSessionManager,
    private readonly viafoura: PassportBridgeTarget,
    private readonly toHostUser: (user: never) => HostUser,
  ) {}

  logIn(req: Request, user: unknown, optionsOrDone: object | Done, maybeDone?: Done): void {
    const [options, done] = split(optionsOrDone, maybeDone);
    // A second login in the same browser replaces the first: its platform session goes too.
    const before = storedUser(req) ? this.viafoura.onLogout(req) : Promise.resolve();
    before.then(() => this.inner.logIn(req, user, options, (error) => (error ? done(error) : this.afterLogIn(req, user, done))), done);
  }

  logOut(req: Request, optionsOrDone: object | Done, maybeDone?: Done): void {
    const [options, done] = split(optionsOrDone, maybeDone);
    this.viafoura.onLogout(req).then(() => this.inner.logOut(req, options, done), done);
  }

  /** The platform login; if it cannot even be attempted (a database error), the host login is undone too. */
  private afterLogIn(req: Request, user: unknown, done: Done): void {
    Promise.resolve()
      .then(() => this.viafoura.onLogin(req, this.toHostUser(user as never)))
      .then(
        () => done(),
        (error: unknown) => this.inner.logOut(req, {}, () => done(error)),
      );
  }
}
