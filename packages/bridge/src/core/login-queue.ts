import type { PlatformSession } from '../platform/accounts-client';

/** What one platform login came to. */
export interface LoginOutcome {
  platform: PlatformSession | null;
  /** A platform session this login replaced and queued for logout. */
  replaced: string | null;
}

/**
 * Per host session, the login under way: concurrent page views share it instead of each logging
 * in. One queue per bridge, which every login and logout of that bridge goes through.
 */
export class LoginQueue {
  readonly #underWay = new Map<string, Promise<LoginOutcome>>();

  /** Joins the login under way for this host session, or starts one. */
  join(hostSessionId: string, task: () => Promise<LoginOutcome>): Promise<LoginOutcome> {
    return this.#underWay.get(hostSessionId) ?? this.start(hostSessionId, task);
  }

  /** Starts a login after the one under way (if any): a profile change must reach the platform. */
  start(hostSessionId: string, task: () => Promise<LoginOutcome>): Promise<LoginOutcome> {
    const before = this.#underWay.get(hostSessionId);
    const run: Promise<LoginOutcome> = (before ? before.catch(() => null).then(task) : task()).finally(() => {
      if (this.#underWay.get(hostSessionId) === run) this.#underWay.delete(hostSessionId);
    });
    this.#underWay.set(hostSessionId, run);
    return run;
  }

  /** Waits for the login under way for this host session, if any, however it ends. */
  async settled(hostSessionId: string): Promise<void> {
    await this.#underWay.get(hostSessionId)?.catch(() => null);
  }
}
