import { z } from 'zod';

/**
 * process.env -> a frozen, typed Config. The only module that reads the environment.
 * A wrong or missing setting stops start-up with one line per bad key, naming it (README.md#configuration).
 */
export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly trustProxy: boolean;
  readonly logLevel: string;
  readonly databaseUrl: string;
  readonly sessionStore: 'sqlite' | 'redis';
  readonly redisUrl: string | undefined;
  /** unset outside production: server.ts then keeps a generated one in the data folder */
  readonly sessionSecret: string | undefined;
  readonly sessionIdleMs: number;
  readonly hookSecret: string | undefined;
  readonly dataDir: string;
  readonly platform: PlatformConfig;
  readonly rateLimits: RateLimitConfig;
}

export type PlatformConfig =
  | { readonly mode: 'emulator'; readonly emulatorPort: number; readonly timeoutMs: number }
  | {
      readonly mode: 'remote';
      readonly apiUrl: string;
      readonly siteId: string;
      readonly apiKey: string;
      readonly embedSrc: string;
      readonly timeoutMs: number;
    };

export interface RateLimitConfig {
  readonly loginPerAccount: number;
  readonly loginPerIp: number;
  readonly registerPerIp: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const DEFAULT_API_URL = 'https://api.viafoura.co';
const DEFAULT_EMBED_SRC = 'https://cdn.viafoura.net/entry/index.js';

const optionalText = z.string().trim().min(1).optional().catch(undefined);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const httpUrl = z.url({ protocol: /^https?$/ });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  TRUST_PROXY: z.enum(['true', 'false', '1', '0']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/site.db')
    .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), 'must be sqlite:<path> or postgres://...'),
  SESSION_STORE: z.enum(['sqlite', 'redis']).default('sqlite'),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, 'must be redis://...').optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_IDLE_MINUTES: positiveInt(7 * 24 * 60),
  HOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  VF_SITE_ID: optionalText,
  VF_API_KEY: optionalText,
  VF_API_URL: httpUrl.optional(),
  VF_EMBED_SRC: httpUrl.optional(),
  VF_TIMEOUT_MS: positiveInt(3000),
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  RATE_LIMIT_LOGIN_ACCOUNT: positiveInt(10),
  RATE_LIMIT_LOGIN_IP: positiveInt(50),
  RATE_LIMIT_REGISTER_IP: positiveInt(30),
});

/** Empty strings count as unset, as they do in most .env files. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = schema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];

  if (e.VF_SITE_ID && !e.VF_API_KEY) problems.push('VF_API_KEY: required when VF_SITE_ID is set');
  if (e.VF_API_KEY && !e.VF_SITE_ID) problems.push('VF_SITE_ID: required when VF_API_KEY is set');
  if (!e.VF_SITE_ID && (e.VF_API_URL || e.VF_EMBED_SRC)) {
    problems.push(`${e.VF_API_URL ? 'VF_API_URL' : 'VF_EMBED_SRC'}: needs VF_SITE_ID and VF_API_KEY`);
  }
  if (e.SESSION_STORE === 'redis' && !e.REDIS_URL) problems.push('REDIS_URL: required when SESSION_STORE=redis');
  if (e.NODE_ENV === 'production' && !e.SESSION_SECRET) problems.push('SESSION_SECRET: required when NODE_ENV=production');
  if (problems.length > 0) throw new ConfigError(problems);

  const platform: PlatformConfig =
    e.VF_SITE_ID && e.VF_API_KEY
      ? {
          mode: 'remote',
          apiUrl: (e.VF_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, ''),
          siteId: e.VF_SITE_ID,
          apiKey: e.VF_API_KEY,
          embedSrc: e.VF_EMBED_SRC ?? DEFAULT_EMBED_SRC,
          timeoutMs: e.VF_TIMEOUT_MS,
        }
      : { mode: 'emulator', emulatorPort: e.EMULATOR_PORT, timeoutMs: e.VF_TIMEOUT_MS };

  return Object.freeze({
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    trustProxy: e.TRUST_PROXY === 'true' || e.TRUST_PROXY === '1',
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    sessionStore: e.SESSION_STORE,
    redisUrl: e.REDIS_URL,
    sessionSecret: e.SESSION_SECRET,
    sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
    hookSecret: e.HOOK_SECRET,
    dataDir: e.DATA_DIR,
    platform: Object.freeze(platform),
    rateLimits: Object.freeze({
      loginPerAccount: e.RATE_LIMIT_LOGIN_ACCOUNT,
      loginPerIp: e.RATE_LIMIT_LOGIN_IP,
      registerPerIp: e.RATE_LIMIT_REGISTER_IP,
    }),
  });
}

/** The hook sender's own settings (`npm run hook`): where the site is and the shared secret. */
export function loadHookClientConfig(env: NodeJS.ProcessEnv): { siteUrl: string; hookSecret: string } {
  const parsed = z
    .object({ SITE_URL: httpUrl.default('http://127.0.0.1:3000'), HOOK_SECRET: z.string().min(32, 'must be at least 32 characters') })
    .safeParse(withoutEmpty(env));
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  return { siteUrl: parsed.data.SITE_URL, hookSecret: parsed.data.HOOK_SECRET };
}
