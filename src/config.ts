import { z } from 'zod';
import { readTokenConfig, type TokenConfig } from './token-config';
import { readLoginConfig, type LoginConfig } from './login-config';
import { readHookSecrets } from './hook-config';
import type { TokenSettings } from 'vf-login-bridge';

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
  /** unset: JSON in production unless stdout is a terminal, pretty otherwise (src/server.ts decides) */
  readonly logFormat: 'json' | 'pretty' | undefined;
  readonly databaseUrl: string;
  readonly sessionStore: 'sqlite' | 'redis';
  readonly redisUrl: string | undefined;
  /** every Redis key of this site starts with it: several sites can share one Redis */
  readonly redisKeyPrefix: string;
  /** how often bridge rows are checked against the session store (one instance per period) */
  readonly reconcileEveryMs: number;
  /** rows active more recently than this are left alone by reconciliation: their session may not be saved yet */
  readonly reconcileGraceMs: number;
  /** SIGTERM's overall deadline: past it the process exits non-zero, whatever is pending */
  readonly shutdownTimeoutMs: number;
  /** unset outside production: server.ts then keeps a generated one in the data folder */
  readonly sessionSecret: string | undefined;
  readonly sessionIdleMs: number;
  /** re-authentication after this long, however active the session (ASVS 3.3.2) */
  readonly sessionAbsoluteMs: number;
  /** live sessions per user; the oldest is logged out when a new one starts */
  readonly sessionMaxPerUser: number;
  /** bearer token for /metrics and the detailed /readyz; unset: both are refused */
  readonly metricsToken: string | undefined;
  readonly hookSecret: string | undefined;
  /** Standard Webhooks secrets (`whsec_...`), all accepted; empty: those hooks are refused */
  readonly hookSecrets: readonly string[];
  readonly dataDir: string;
  readonly platform: PlatformConfig;
  readonly rateLimits: RateLimitConfig;
  /** token dialect, token encryption key and connect admins (src/token-config.ts) */
  readonly tokens: TokenConfig;
  readonly mail: MailConfig;
  /** LOGIN and the OpenID Provider's settings (src/login-config.ts) */
  readonly login: LoginConfig;
  /** settings that start but deserve a line at start-up (production without TRUST_PROXY) */
  readonly warnings: readonly string[];
}

/** Mail (docs/accounts.md#mail): SMTP in production, the development inbox at /dev/mail otherwise. */
export interface MailConfig {
  /** unset: the development inbox (never in production) */
  readonly smtpUrl: string | undefined;
  readonly from: string;
  /** the base of every link in a mail; unset outside production: the address the site listens on */
  readonly publicUrl: string | undefined;
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
      readonly token: TokenSettings;
    };

/**
 * Per 15 minutes unless said otherwise; how they combine is in src/auth/login-limits.ts. The
 * optional ones default from the others (src/auth/rate-limits.ts); loadConfig sets them all.
 */
export interface RateLimitConfig {
  /** failed logins per account from one client (IP, or a known device): the hard limit */
  readonly loginPerAccountClient?: number;
  /** failed logins per account from clients that are not a known device of it */
  readonly loginPerAccount: number;
  /** failed logins per IP, clients that are not a known device */
  readonly loginPerIp: number;
  /** failed logins per account from every client together, known devices included */
  readonly loginCeiling?: number;
  readonly registerPerIp: number;
  /** account changes (profile, password) per user, per hour */
  readonly accountChangesPerUser?: number;
  /** account changes per IP, per hour */
  readonly accountChangesPerIp?: number;
  /** verification and reset mails per address, per hour */
  readonly mailPerAddress?: number;
  /** verification and reset mails asked from one IP, per hour */
  readonly mailPerIp?: number;
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
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  DATABASE_URL: z
    .string()
    .default(DEFAULT_DATABASE_URL)
    .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), 'must be sqlite:<path> or postgres://...'),
  SESSION_STORE: z.enum(['sqlite', 'redis']).default('sqlite'),
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, 'must be redis://...').optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{0,64}$/, 'letters, digits and _ . : - only, at most 64').default(''),
  RECONCILE_INTERVAL_SECONDS: positiveInt(600),
  RECONCILE_GRACE_SECONDS: positiveInt(300),
  SHUTDOWN_TIMEOUT_SECONDS: positiveInt(10),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_IDLE_MINUTES: positiveInt(7 * 24 * 60),
  SESSION_ABSOLUTE_DAYS: positiveInt(30),
  SESSION_MAX_PER_USER: positiveInt(20),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  VF_EMULATOR: z.enum(['true', 'false', '1', '0']).optional(),
  HOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  VF_SITE_ID: optionalText,
  VF_API_KEY: optionalText,
  VF_API_URL: httpUrl.optional(),
  VF_EMBED_SRC: httpUrl.optional(),
  VF_TIMEOUT_MS: positiveInt(3000),
  EMULATOR_PORT: portNumber.optional(),
  RATE_LIMIT_LOGIN_ACCOUNT_CLIENT: positiveInt(10),
  RATE_LIMIT_LOGIN_ACCOUNT: positiveInt(30),
  RATE_LIMIT_LOGIN_IP: positiveInt(50),
  RATE_LIMIT_LOGIN_CEILING: positiveInt(100),
  RATE_LIMIT_REGISTER_IP: positiveInt(30),
  RATE_LIMIT_ACCOUNT_USER: positiveInt(10),
  RATE_LIMIT_ACCOUNT_IP: positiveInt(30),
  RATE_LIMIT_MAIL_ADDRESS: positiveInt(5),
  RATE_LIMIT_MAIL_IP: positiveInt(30),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be smtp://[user:password@]host[:port] or smtps://...' }).optional(),
  MAIL_FROM: z.string().trim().min(3).max(254).refine((v) => !/[\r\n]/.test(v), 'must be one line').optional(),
  PUBLIC_URL: httpUrl.optional(),
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
  const addLine = (line: string) => add(line.slice(0, Math.max(0, line.indexOf(':'))) || line, line.slice(line.indexOf(':') + 1).trim());
  if (!parsed.success) for (const issue of parsed.error.issues) add(issue.path.join('.'), issue.message);

  const apiUrl = (parsed.success && parsed.data.VF_API_URL ? parsed.data.VF_API_URL : DEFAULT_API_URL).replace(/\/+$/, '');
  const tokens = readTokenConfig(raw, apiUrl);
  for (const line of tokens.problems) addLine(line);
  const token = tokens.config.settings;
  if (!token && !tokens.problems.length && (raw['VF_API_URL'] || raw['VF_EMBED_SRC'])) {
    add(raw['VF_API_URL'] ? 'VF_API_URL' : 'VF_EMBED_SRC', 'needs platform credentials (VF_SITE_ID and VF_API_KEY, or VF_TOKEN_GRANT and its settings)');
  }
  const login = readLoginConfig(raw);
  for (const line of login.problems) addLine(line);
  const hookSecrets = readHookSecrets(raw['HOOK_SECRETS']);
  for (const line of hookSecrets.problems) addLine(line);
  if (raw['SESSION_STORE'] === 'redis' && !raw['REDIS_URL']) add('REDIS_URL', 'required when SESSION_STORE=redis');
  const production = raw['NODE_ENV'] === 'production';
  // Production mail reaches readers, and its links must name the public site, never a request's Host header.
  for (const name of ['SMTP_URL', 'MAIL_FROM', 'PUBLIC_URL']) if (production && !raw[name]) add(name, 'required when NODE_ENV=production (mail for verification and password reset)');
  if (production && !raw['SESSION_SECRET']) add('SESSION_SECRET', 'required when NODE_ENV=production');
  // The emulator's throwaway platform is no place for real readers: production says so explicitly.
  const emulatorAsked = raw['VF_EMULATOR'] === 'true' || raw['VF_EMULATOR'] === '1';
  if (production && !token && !tokens.problems.length && !emulatorAsked) {
    add('VF_SITE_ID/VF_API_KEY', 'required when NODE_ENV=production (or VF_EMULATOR=true to run the bundled emulator on purpose)');
  }
  if (parsed.success) {
    const e = parsed.data;
    // Known devices must stay able to log in while strangers fill the per-account limit (src/auth/login-limits.ts).
    if (e.RATE_LIMIT_LOGIN_CEILING <= 2 * e.RATE_LIMIT_LOGIN_ACCOUNT + e.RATE_LIMIT_LOGIN_ACCOUNT_CLIENT) {
      add('RATE_LIMIT_LOGIN_CEILING', 'must be more than twice RATE_LIMIT_LOGIN_ACCOUNT plus RATE_LIMIT_LOGIN_ACCOUNT_CLIENT');
    }
    // The bundled emulator listens before the site does: on the site's port, the site would find it taken.
    if (!token && !tokens.problems.length && e.EMULATOR_PORT !== undefined && e.EMULATOR_PORT !== 0 && e.EMULATOR_PORT === e.PORT) {
      add('EMULATOR_PORT', `${e.EMULATOR_PORT} is PORT too; set EMULATOR_PORT to another port, or 0 for any free one`);
    }
  }
  if (!parsed.success || problems.size > 0) throw new ConfigError([...problems.values()]);
  const e = parsed.data;

  const trustProxy = e.TRUST_PROXY === 'true' || e.TRUST_PROXY === '1';
  const warnings: string[] = [...login.warnings, ...tokens.warnings];
  if (e.NODE_ENV === 'production' && !trustProxy) {
    warnings.push('TRUST_PROXY is off: cookies go out without Secure and without the __Host- prefix; set TRUST_PROXY=true behind a TLS-terminating proxy');
  }

  const platform: PlatformConfig =
    token
      ? {
          mode: 'remote',
          apiUrl,
          siteId: token.clientId ?? '',
          apiKey: token.clientSecret ?? '',
          embedSrc: e.VF_EMBED_SRC ?? DEFAULT_EMBED_SRC,
          timeoutMs: e.VF_TIMEOUT_MS,
          token,
        }
      : { mode: 'emulator', emulatorPort: e.EMULATOR_PORT, timeoutMs: e.VF_TIMEOUT_MS };

  return Object.freeze({
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    trustProxy,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    databaseUrl: e.DATABASE_URL,
    sessionStore: e.SESSION_STORE,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    reconcileEveryMs: e.RECONCILE_INTERVAL_SECONDS * 1000,
    reconcileGraceMs: e.RECONCILE_GRACE_SECONDS * 1000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    sessionSecret: e.SESSION_SECRET,
    sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.SESSION_ABSOLUTE_DAYS * 24 * 60 * 60_000,
    sessionMaxPerUser: e.SESSION_MAX_PER_USER,
    metricsToken: e.METRICS_TOKEN,
    hookSecret: e.HOOK_SECRET,
    hookSecrets: Object.freeze(hookSecrets.secrets),
    dataDir: e.DATA_DIR,
    platform: Object.freeze(platform),
    rateLimits: Object.freeze({
      loginPerAccountClient: e.RATE_LIMIT_LOGIN_ACCOUNT_CLIENT,
      loginPerAccount: e.RATE_LIMIT_LOGIN_ACCOUNT,
      loginPerIp: e.RATE_LIMIT_LOGIN_IP,
      loginCeiling: e.RATE_LIMIT_LOGIN_CEILING,
      registerPerIp: e.RATE_LIMIT_REGISTER_IP,
      accountChangesPerUser: e.RATE_LIMIT_ACCOUNT_USER,
      accountChangesPerIp: e.RATE_LIMIT_ACCOUNT_IP,
      mailPerAddress: e.RATE_LIMIT_MAIL_ADDRESS,
      mailPerIp: e.RATE_LIMIT_MAIL_IP,
    }),
    mail: Object.freeze({
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM ?? '"The Harbour Ledger" <no-reply@localhost>',
      publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    }),
    tokens: Object.freeze(tokens.config),
    login: Object.freeze(login.config),
    warnings: Object.freeze(warnings),
  });
}

/**
 * JSON for a log collector, readable lines for a person: LOG_FORMAT when it is valid, otherwise
 * JSON in production unless stdout is a terminal. It reads the raw environment, so a
 * configuration error is printed in the format the rest of the log would have had.
 */
export function logFormatOf(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): 'json' | 'pretty' {
  const asked = env['LOG_FORMAT'];
  if (asked === 'json' || asked === 'pretty') return asked;
  return stdoutIsTTY || env['NODE_ENV'] !== 'production' ? 'pretty' : 'json';
}

/**
 * The hook sender's own settings (`npm run hook`): where the site is, and how to sign: a Standard
 * Webhook with the first of HOOK_SECRETS, or X-Hook-Signature with HOOK_SECRET when there are none.
 */
export function loadHookClientConfig(env: NodeJS.ProcessEnv): { siteUrl: string; sign: { webhookSecret: string } | { hookSecret: string } } {
  const raw = withoutEmpty(env);
  const parsed = z
    .object({ SITE_URL: httpUrl.default('http://127.0.0.1:3000'), HOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional() })
    .safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const webhook = readHookSecrets(raw['HOOK_SECRETS']);
  problems.push(...webhook.problems);
  if (!raw['HOOK_SECRETS'] && !raw['HOOK_SECRET']) problems.push('HOOK_SECRETS: required (whsec_...), or HOOK_SECRET for X-Hook-Signature');
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const first = webhook.secrets[0];
  return { siteUrl: parsed.data.SITE_URL, sign: first ? { webhookSecret: first } : { hookSecret: parsed.data.HOOK_SECRET! } };
}
