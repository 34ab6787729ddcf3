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
  /** emulatorPort unset: the demo port when free, else any */
  | { readonly mode: 'emulator'; readonly emulatorPort: number | undefined; readonly timeoutMs: number }
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
/** The one database whose folder start-up creates: any other path must be in a folder that exists. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/site.db';
const DEFAULT_EMBED_SRC = 'https://cdn.viafoura.net/entry/index.js';

const optionalText = z.string().trim().min(1).optional().catch(undefined);
const positiveInt = (fallback: number) => z.coerce.number({ error: 'must be a whole number above 0' }).int('must be a whole number above 0').positive('must be a whole number above 0').default(fallback);
const portNumber = z.coerce.number({ error: 'must be a port number from 0 to 65535' }).int('must be a port number from 0 to 65535').min(0, 'must be a port number from 0 to 65535').max(65535, 'must be a port number from 0 to 65535');
const httpUrl = z.url({ protocol: /^https?$/ });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: portNumber.default(3000),
  TRUST_PROXY: z.enum(['true', 'false', '1', '0']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .default(DEFAULT_DATABASE_URL)
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
  EMULATOR_PORT: portNumber.optional(),
  RATE_LIMIT_LOGIN_ACCOUNT: positiveInt(10),
  RATE_LIMIT_LOGIN_IP: positiveInt(50),
  RATE_LIMIT_REGISTER_IP: positiveInt(30),
});

/** Empty strings count as unset, as they do in most .env files. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const raw = withoutEmpty(env);
  const parsed = schema.safeParse(raw);
  // Every problem at once, one line per variable: the field checks and the checks across fields
  // (which read the raw values, so they run even when a field check failed).
  const problems = new Map<string, string>();
  const add = (variable: string, message: string) => {
    if (!problems.has(variable)) problems.set(variable, `${variable}: ${message}`);
  };
  if (!parsed.success) for (const issue of parsed.error.issues) add(issue.path.join('.'), issue.message);
  const text = (key: string) => raw[key]?.trim() || undefined;

  if (text('VF_SITE_ID') && !text('VF_API_KEY')) add('VF_API_KEY', 'required when VF_SITE_ID is set');
  if (text('VF_API_KEY') && !text('VF_SITE_ID')) add('VF_SITE_ID', 'required when VF_API_KEY is set');
  if (!text('VF_SITE_ID') && !text('VF_API_KEY')) {
    if (raw['VF_API_URL']) add('VF_API_URL', 'needs VF_SITE_ID and VF_API_KEY');
    if (raw['VF_EMBED_SRC']) add('VF_EMBED_SRC', 'needs VF_SITE_ID and VF_API_KEY');
  }
  if (raw['SESSION_STORE'] === 'redis' && !raw['REDIS_URL']) add('REDIS_URL', 'required when SESSION_STORE=redis');
  if (raw['NODE_ENV'] === 'production' && !raw['SESSION_SECRET']) add('SESSION_SECRET', 'required when NODE_ENV=production');
  if (!parsed.success || problems.size > 0) throw new ConfigError([...problems.values()]);
  const e = parsed.data;

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
