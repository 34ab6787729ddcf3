import { LoginQueue, type LoginOutcome } from '../src/core/login-queue';

/** A login task that ends when the test says so. */
function pendingLogin(): { task: jest.Mock<Promise<LoginOutcome>, []>; finish(session: string): void; fail(): void } {
  let finish: (outcome: LoginOutcome) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<LoginOutcome>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    task: jest.fn(() => promise),
    finish: (session) => finish({ platform: { userId: 'p1', session }, replaced: null }),
    fail: () => fail(new Error('platform down')),
  };
}

describe('logins under way', () => {
  it('are shared by page views of the same host session', async () => {
    const queue = new LoginQueue();
    const first = pendingLogin();
    const second = pendingLogin();
    const a = queue.join('sid-1', first.task);
    const b = queue.join('sid-1', second.task);
    first.finish('ps-1');
    expect(await a).toBe(await b);
    expect(second.task).not.toHaveBeenCalled();
  });

  it('are not shared between host sessions', async () => {
    const queue = new LoginQueue();
    const one = pendingLogin();
    const other = pendingLogin();
    const a = queue.join('sid-1', one.task);
    const b = queue.join('sid-2', other.task);
    one.finish('ps-1');
    other.finish('ps-2');
    expect((await a).platform?.session).toBe('ps-1');
    expect((await b).platform?.session).toBe('ps-2');
  });

  it('a profile change starts its own login after the one under way, even one that fails', async () => {
    const queue = new LoginQueue();
    const pageView = pendingLogin();
    const profile = pendingLogin();
    const viewed = queue.join('sid-1', pageView.task).catch(() => null);
    const changed = queue.start('sid-1', profile.task);
    expect(profile.task).not.toHaveBeenCalled();
    pageView.fail();
    await viewed;
    await new Promise(setImmediate);
    expect(profile.task).toHaveBeenCalledTimes(1);
    profile.finish('ps-2');
    expect((await changed).platform?.session).toBe('ps-2');
  });

  it('a page view after a finished login starts a new one', async () => {
    const queue = new LoginQueue();
    const first = pendingLogin();
    first.finish('ps-1');
    await queue.join('sid-1', first.task);
    const next = pendingLogin();
    next.finish('ps-2');
    expect((await queue.join('sid-1', next.task)).platform?.session).toBe('ps-2');
  });

  it('a logout waits for the login under way, however it ends', async () => {
    const queue = new LoginQueue();
    const login = pendingLogin();
    queue.join('sid-1', login.task).catch(() => null);
    let settled = false;
    const waiting = queue.settled('sid-1').then(() => {
      settled = true;
    });
    await new Promise(setImmediate);
    expect(settled).toBe(false);
    login.fail();
    await waiting;
    expect(settled).toBe(true);
    await expect(queue.settled('sid-unknown')).resolves.toBeUndefined();
  });
});
