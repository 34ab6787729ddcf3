/** Milliseconds since the epoch. Every piece of logic that measures time takes a Clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that can be moved forward: tests, and the emulator's "time travel" knob. */
export interface AdjustableClock extends Clock {
  advance(ms: number): void;
}

export function createAdjustableClock(base: Clock = systemClock): AdjustableClock {
  let offset = 0;
  return {
    now: () => base.now() + offset,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance() takes a non-negative number of ms');
      offset += ms;
    },
  };
}
