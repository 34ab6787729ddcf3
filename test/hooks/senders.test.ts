import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_HOOK_SECRET, startTestSite, type TestSite } from '../helpers/site';
import { embedTagOf, login, register } from '../helpers/browser-flow';
import { runToExit } from '../helpers/run-to-exit';

/**
 * The senders the README shows and `npm run hook`, each run as it is against a site listening on
 * 127.0.0.1: a Standard Webhook by curl and openssl, by the standardwebhooks package, and by the
 * CLI; X-Hook-Signature by curl and by the CLI.
 */
const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'src', 'hooks', 'cli.ts');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const run = promisify(execFile);

const FIRST_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SECOND_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let t: TestSite;
let server: http.Server;
let siteUrl: string;
beforeAll(async () => {
  t = await startTestSite({ overrides: { hookSecrets: [FIRST_SECRET, SECOND_SECRET] } });
  server = http.createServer(t.site.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

/** The README's code block of `language` that holds `marker`, pointed at this site and this user. */
function readmeSender(language: 'sh' | 'js', marker: string, userId: string): string {
  const block = [...README.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!).find((code) => code.includes(marker));
  if (!block) throw new Error(`README.md has no ${language} block with ${marker}`);
  return block.replaceAll('http://127.0.0.1:3000', siteUrl).replace(/"42"|'42'/, (quoted) => (quoted.startsWith('"') ? `"${userId}"` : `'${userId}'`));
}

async function loggedInReader() {
  const agent = t.agent();
  const { email } = await register(agent);
  const sid = embedTagOf((await agent.get('/').expect(200)).text).sid!;
  const userId = String((await agent.get('/api/session')).body.user.id);
  return { agent, email, userId, sid };
}

async function loggedIn(agent: ReturnType<TestSite['agent']>): Promise<boolean> {
  return (await agent.get('/api/session').expect(200)).body.user !== null;
}

const replayKeys = async () => (await t.site.database.db.selectFrom('hook_replays').select('signature').execute()).map((row) => row.signature);

describe("the README's senders", () => {
  it('curl and openssl send a Standard Webhook the site takes', async () => {
    const { agent, userId, sid } = await loggedInReader();
    const script = readmeSender('sh', 'webhook-signature: v1,', userId);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { env: { PATH: process.env.PATH ?? '', HOOK_SECRETS: `${FIRST_SECRET} ${SECOND_SECRET}` }, timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({ loggedOut: 1 });
    expect(await loggedIn(agent)).toBe(false);
    expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
  });

  it('the standardwebhooks package sends one the site takes', async () => {
    const { agent, userId } = await loggedInReader();
    const code = readmeSender('js', "from 'standardwebhooks'", userId);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOOK_SECRETS: `${SECOND_SECRET},${FIRST_SECRET}` }, timeout: 15_000 });
    expect(stdout.trim()).toBe('200 {"loggedOut":1}');
    expect(await loggedIn(agent)).toBe(false);
  });

  it('curl and openssl send an X-Hook-Signature the site takes', async () => {
    const { agent, userId } = await loggedInReader();
    const script = readmeSender('sh', 'X-Hook-Signature: t=', userId);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { env: { PATH: process.env.PATH ?? '', HOOK_SECRET: TEST_HOOK_SECRET }, timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({ loggedOut: 1 });
    expect(await loggedIn(agent)).toBe(false);
  });
});

describe('npm run hook -- logout <userId>', () => {
  const cli = (userId: string, env: Record<string, string>) => runToExit(CLI, ['logout', userId], { SITE_URL: siteUrl, ...env }, ROOT);

  it('sends a Standard Webhook signed with the first of HOOK_SECRETS, which the site takes', async () => {
    const { agent, email, userId } = await loggedInReader();
    const before = await replayKeys();
    const result = await cli(userId, { HOOK_SECRETS: `${SECOND_SECRET}, ${FIRST_SECRET}`, HOOK_SECRET: TEST_HOOK_SECRET });
    expect(result).toMatchObject({ code: 0, stdout: '200 {"loggedOut":1}\n', stderr: '' });
    expect(await loggedIn(agent)).toBe(false);
    const added = (await replayKeys()).filter((key) => !before.includes(key));
    expect(added).toEqual([expect.stringMatching(/^swh:msg_[0-9a-f]{32}$/)]);

    // Each run is a new message: the reader logged in again is logged out again.
    const again = t.agent();
    await login(again, email);
    expect((await cli(userId, { HOOK_SECRETS: FIRST_SECRET })).stdout).toBe('200 {"loggedOut":1}\n');
    expect(await loggedIn(again)).toBe(false);
  });

  it('with HOOK_SECRET only, sends X-Hook-Signature', async () => {
    const { agent, userId } = await loggedInReader();
    const before = await replayKeys();
    expect(await cli(userId, { HOOK_SECRET: TEST_HOOK_SECRET })).toMatchObject({ code: 0, stdout: '200 {"loggedOut":1}\n' });
    expect(await loggedIn(agent)).toBe(false);
    expect((await replayKeys()).filter((key) => !before.includes(key))).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });

  it('a first secret the site does not know is refused, and the exit code says so', async () => {
    const { agent, userId } = await loggedInReader();
    const unknown = `whsec_${randomBytes(32).toString('base64')}`;
    const result = await cli(userId, { HOOK_SECRETS: unknown });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('401 {"error":{"code":"HOOK_SIGNATURE_INVALID","message":"No webhook-signature matches."}}\n');
    // Only the first secret signs: a known one after an unknown one is not used.
    expect((await cli(userId, { HOOK_SECRETS: `${unknown},${FIRST_SECRET}` })).code).toBe(1);
    expect(await loggedIn(agent)).toBe(true);
  });

  it('stops with one configuration line when no secret is set or one is malformed, never printing it', async () => {
    const none = await cli('42', {});
    expect(none).toMatchObject({ code: 78, stdout: '' });
    expect(none.stderr).toBe('Configuration error: HOOK_SECRETS: required (whsec_...), or HOOK_SECRET for X-Hook-Signature\n');

    const short = `whsec_${randomBytes(16).toString('base64')}`;
    const bad = await cli('42', { HOOK_SECRETS: `${FIRST_SECRET},${short}` });
    expect(bad).toMatchObject({ code: 78, stdout: '' });
    expect(bad.stderr).toBe('Configuration error: HOOK_SECRETS: the 2nd secret must hold 24 to 64 bytes after whsec_ (it holds 16)\n');
    expect(bad.stderr).not.toContain(short.slice('whsec_'.length));
  });
});
