import axios, { type AxiosInstance } from 'axios';
import { createAdjustableClock, type AdjustableClock } from 'vf-login-bridge';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from 'vf-platform-emulator';

export const TEST_SITE_ID = 'site-123';
/** Holds '+', '/' and '=' on purpose: a client that URL-encodes the Basic credentials fails. */
export const TEST_API_KEY = 'k+ey/with=chars';

export type TestEmulator = RunningEmulator & { clock: AdjustableClock };

/** The real emulator on 127.0.0.1 and a port the OS picks, on a clock the test moves. */
export async function startTestEmulator(overrides: Partial<EmulatorOptions> = {}): Promise<TestEmulator> {
  const clock = overrides.clock ? undefined : createAdjustableClock();
  return startEmulator({
    siteId: TEST_SITE_ID,
    apiKey: TEST_API_KEY,
    host: '127.0.0.1',
    port: 0,
    ...(clock ? { clock } : {}),
    ...overrides,
  });
}

/** `Authorization` exactly as `curl --user USER:PASSWORD` sends it. */
export function curlBasicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** `Authorization` as RFC 6749 §2.3.1 has it: the id and the password each form-encoded, then Basic. */
export function formBasicAuth(user: string, password: string): string {
  const encode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
  return `Basic ${Buffer.from(`${encode(user)}:${encode(password)}`, 'utf8').toString('base64')}`;
}

/** An axios client for the emulator that hands back every status instead of throwing. */
export function emulatorHttp(emulator: Pick<RunningEmulator, 'url'>): AxiosInstance {
  return axios.create({ baseURL: emulator.url, timeout: 5000, maxRedirects: 0, validateStatus: () => true });
}

/** A form body exactly as `curl -d a=1 -d b=2` sends it. */
export function formPost(http: AxiosInstance, path: string, body: string, headers: Record<string, string> = {}) {
  return http.post(path, body, { headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });
}

/** A fresh bearer token from the emulator, with the test credentials. */
export async function issueTestToken(emulator: Pick<RunningEmulator, 'url'>): Promise<string> {
  const answer = await formPost(emulatorHttp(emulator), '/oauth2/token', 'grant_type=client_credentials&scope=accounts', {
    Authorization: curlBasicAuth(TEST_SITE_ID, TEST_API_KEY),
  });
  if (answer.status !== 200) throw new Error(`token request answered ${answer.status}`);
  return answer.data.access_token as string;
}

/** A platform login for `hostId`, as the bridge makes it; returns the platform's answer. */
export async function platformLogin(
  emulator: Pick<RunningEmulator, 'url'>,
  fields: { id: string; name: string; email?: string },
  token?: string,
): Promise<{ user_id: number; session: string }> {
  const bearer = token ?? (await issueTestToken(emulator));
  const answer = await formPost(emulatorHttp(emulator), '/rest/v1/accounts/login', new URLSearchParams(fields).toString(), {
    Authorization: `Bearer ${bearer}`,
  });
  if (answer.status !== 200) throw new Error(`login answered ${answer.status}`);
  return answer.data;
}
