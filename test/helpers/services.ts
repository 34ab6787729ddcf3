import fs from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The scale-out services, when the environment names them (`.ci/run` does). */
export function postgresUrl(): string | undefined {
  const url = process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

export function redisUrl(): string | undefined {
  const url = process.env.REDIS_URL;
  return url && /^rediss?:\/\//.test(url) ? url : undefined;
}

/** In CI the browser suite must run: a missing Chromium fails it there instead of skipping. */
export const hasChromium = (): boolean => fs.existsSync(CHROMIUM_PATH) || process.env.CI === 'true';

/** describe, or describe.skip when the service is absent (global-setup prints why). */
export function describeIf(condition: boolean): jest.Describe {
  return condition ? describe : describe.skip;
}
