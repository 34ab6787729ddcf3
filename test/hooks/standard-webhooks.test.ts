import { createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { signHook } from 'vf-login-bridge';
import { embedTagOf, login, register } from '../helpers/browser-flow';
import { startTestSite, TEST_HOOK_SECRET, type TestSite } from '../helpers/site';

/** Two secrets at once, as during a rotation: the new one first, the old one still accepted. */
const NEW_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const UNKNOWN_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let t: TestSite;
beforeAll(async () => {
  // Many readers register here: the per-IP limits would count them as one client.
  t = await startTestSite({ overrides: { hookSecrets: [NEW_SECRET, OLD_SECRET], rateLimits: { loginPerAccount: 10, loginPerIp: 10_000, registerPerIp: 10_000 } } });
});
afterAll(() => t.close());

const nowSeconds = (site: TestSite = t) => Math.floor(site.clock.now() / 1000);
let sequence = 0;
const newId = () => `msg_${Date.now().toString(36)}_${++sequence}`;

type Headers = Record<string, string>;

/** What the standardwebhooks library sends: its own `sign`. */
function librarySigned(secret: string, id: string, at: number, body: string): Headers {
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': new Webhook(secret).sign(id, new Date(at * 1000), body) };
}

/** What a sender without the library computes: HMAC-SHA256 over `id.timestamp.body`, keyed with the bytes after whsec_. */
function handSigned(secret: string, id: string, at: number, body: string): Headers {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const v1 = createHmac('sha256', key).update(`${id}.${at}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': `v1,${v1}` };
}

function sendHook(body: string, headers: Headers, site: TestSite = t) {
  return request(site.site.app).post('/hooks/logout').set('Content-Type', 'application/json').set(headers).send(body);
}

/** A reader logged in from two browsers: the user id, both browsers and both platform sessions. */
async function readerInTwoBrowsers(site: TestSite = t) {
  const first = site.agent();
  const { email } = await register(first);
  const second = site.agent();
  await login(second, email);
  const sids: string[] = [];
  for (const agent of [first, second]) sids.push(embedTagOf((await agent.get('/').expect(200)).text).sid!);
  const userId = String((await first.get('/api/session')).body.user.id);
  return { first, second, email, userId, sids };
}

async function loggedIn(agent: ReturnType<TestSite['agent']>): Promise<boolean> {
  return (await agent.get('/api/session').expect(200)).body.user !== null;
}

async function replayRows(): Promise<string[]> {
  return (await t.site.database.db.selectFrom('hook_replays').select('signature').execute()).map((row) => row.signature);
}

describe('POST /hooks/logout with Standard Webhooks', () => {
  it('a hook signed by the standardwebhooks library ends every host and platform session of the user', async () => {
    const { first, second, userId, sids } = await readerInTwoBrowsers();
    const bystander = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });

    const res = await sendHook(body, librarySigned(NEW_SECRET, newId(), nowSeconds(), body)).expect(200);
    expect(res.body).toEqual({ loggedOut: 2 });
    for (const agent of [first, second]) expect(await loggedIn(agent)).toBe(false);
    for (const sid of sids) expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
    expect(await loggedIn(bystander.first)).toBe(true);
    for (const sid of bystander.sids) expect(t.emulator.sessionInfo(sid)?.alive).toBe(true);
  });

  it('a hook signed by hand (HMAC-SHA256 of id.timestamp.body, base64) works the same', async () => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    expect((await sendHook(body, handSigned(NEW_SECRET, newId(), nowSeconds(), body)).expect(200)).body).toEqual({ loggedOut: 2 });
    expect(await loggedIn(first)).toBe(false);
  });

  it('during a rotation both secrets are accepted, and a header with several signatures passes when any matches', async () => {
    const old = await readerInTwoBrowsers();
    const oldBody = JSON.stringify({ userId: old.userId });
    expect((await sendHook(oldBody, librarySigned(OLD_SECRET, newId(), nowSeconds(), oldBody)).expect(200)).body).toEqual({ loggedOut: 2 });

    const both = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId: both.userId });
    const id = newId();
    const at = nowSeconds();
    const signatures = [UNKNOWN_SECRET, OLD_SECRET].map((secret) => librarySigned(secret, id, at, body)['webhook-signature']).join(' ');
    const res = await sendHook(body, { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signatures }).expect(200);
    expect(res.body).toEqual({ loggedOut: 2 });
    expect(await loggedIn(both.first)).toBe(false);
  });

  it('a signature by an unknown secret is refused 401 with a plain message, and logs nobody out', async () => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const id = newId();
    const res = await sendHook(body, librarySigned(UNKNOWN_SECRET, id, nowSeconds(), body)).expect(401);
    expect(res.body).toEqual({ error: { code: 'HOOK_SIGNATURE_INVALID', message: 'No webhook-signature matches.' } });
    expect(await loggedIn(first)).toBe(true);
    expect(await replayRows()).not.toContain(`swh:${id}`);
  });

  it.each([
    ['more than 5 minutes old', -301],
    ['more than 5 minutes ahead', 301],
  ])('a timestamp %s is refused as stale', async (_label, skew) => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const res = await sendHook(body, librarySigned(NEW_SECRET, newId(), nowSeconds() + skew, body)).expect(401);
    expect(res.body.error).toEqual({ code: 'HOOK_SIGNATURE_STALE', message: 'The webhook-timestamp is more than 5 minutes from now.' });
    expect(await loggedIn(first)).toBe(true);
  });

  it('a timestamp 5 minutes off either way is still accepted', async () => {
    for (const skew of [-300, 300]) {
      const body = JSON.stringify({ userId: `nobody-${skew}` });
      expect((await sendHook(body, librarySigned(NEW_SECRET, newId(), nowSeconds() + skew, body)).expect(200)).body).toEqual({ loggedOut: 0 });
    }
  });

  it("the site's clock judges the timestamp, not the machine's", async () => {
    const site = await startTestSite({ overrides: { hookSecrets: [NEW_SECRET] } });
    try {
      const body = JSON.stringify({ userId: 'nobody' });
      const machineNow = Math.floor(Date.now() / 1000);
      site.clock.advance(10 * 60_000);
      // Signed now by the machine's clock, it is 10 minutes old by the site's.
      expect((await sendHook(body, librarySigned(NEW_SECRET, newId(), machineNow, body), site).expect(401)).body.error.code).toBe('HOOK_SIGNATURE_STALE');
      // Signed at the site's time, 10 minutes ahead of the machine's, it passes (the library's own verify would refuse it).
      expect((await sendHook(body, librarySigned(NEW_SECRET, newId(), nowSeconds(site), body), site).expect(200)).body).toEqual({ loggedOut: 0 });
    } finally {
      await site.close();
    }
  });
});

describe('a webhook-id already handled', () => {
  it('sent again (a fresh timestamp, as senders retry) is answered 200 as a duplicate and has no second effect', async () => {
    const { email, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const id = newId();
    expect((await sendHook(body, librarySigned(NEW_SECRET, id, nowSeconds(), body)).expect(200)).body).toEqual({ loggedOut: 2 });

    const again = t.agent();
    await login(again, email);
    t.clock.advance(60_000);
    expect((await sendHook(body, librarySigned(NEW_SECRET, id, nowSeconds(), body)).expect(200)).body).toEqual({ duplicate: true });
    // the same request byte for byte too
    expect((await sendHook(body, librarySigned(NEW_SECRET, id, nowSeconds(), body)).expect(200)).body).toEqual({ duplicate: true });
    expect(await loggedIn(again)).toBe(true);
    expect(t.logLines.some((line) => line.includes('answered as a duplicate') && line.includes(id))).toBe(true);
  });

  it('on a second instance sharing the database is a duplicate there too, with no second logout', async () => {
    const { email, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const id = newId();
    expect((await sendHook(body, librarySigned(NEW_SECRET, id, nowSeconds(), body)).expect(200)).body).toEqual({ loggedOut: 2 });
    const other = await t.restart();
    try {
      const again = other.agent();
      await login(again, email);
      const res = await sendHook(body, librarySigned(OLD_SECRET, id, nowSeconds(), body), other).expect(200);
      expect(res.body).toEqual({ duplicate: true });
      expect(await loggedIn(again)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('sent to two instances at once has one effect: the other answer is a duplicate or "in progress"', async () => {
    const other = await t.restart();
    try {
      for (let round = 0; round < 5; round++) {
        const { userId, sids } = await readerInTwoBrowsers();
        const body = JSON.stringify({ userId });
        const headers = librarySigned(NEW_SECRET, newId(), nowSeconds(), body);
        const answers = await Promise.all([sendHook(body, headers), sendHook(body, headers, other)]);
        const effects = answers.filter((res) => res.status === 200 && 'loggedOut' in res.body);
        expect(effects).toHaveLength(1);
        expect(effects[0]!.body).toEqual({ loggedOut: 2 });
        const rest = answers.find((res) => res !== effects[0])!;
        expect([JSON.stringify({ status: 200, body: { duplicate: true } }), JSON.stringify({ status: 409, body: { error: { code: 'HOOK_IN_PROGRESS', message: 'This webhook-id is being handled; send it again later.' } } })]).toContain(
          JSON.stringify({ status: rest.status, body: rest.body }),
        );
        for (const sid of sids) expect(t.emulator.sessionInfo(sid)?.alive).toBe(false);
      }
    } finally {
      await other.close();
    }
  });

  it('reused with another body (by a holder of the secret) is a duplicate: the second user is not logged out', async () => {
    const alice = await readerInTwoBrowsers();
    const bob = await readerInTwoBrowsers();
    const id = newId();
    const aliceBody = JSON.stringify({ userId: alice.userId });
    await sendHook(aliceBody, librarySigned(NEW_SECRET, id, nowSeconds(), aliceBody)).expect(200, { loggedOut: 2 });
    const bobBody = JSON.stringify({ userId: bob.userId });
    expect((await sendHook(bobBody, librarySigned(NEW_SECRET, id, nowSeconds(), bobBody)).expect(200)).body).toEqual({ duplicate: true });
    expect(await loggedIn(bob.first)).toBe(true);
  });

  it('captured and sent with another body is refused: the signature covers the body', async () => {
    const alice = await readerInTwoBrowsers();
    const bob = await readerInTwoBrowsers();
    const aliceBody = JSON.stringify({ userId: alice.userId });
    const captured = librarySigned(NEW_SECRET, newId(), nowSeconds(), aliceBody);
    const res = await sendHook(JSON.stringify({ userId: bob.userId }), captured).expect(401);
    expect(res.body.error.code).toBe('HOOK_SIGNATURE_INVALID');
    expect(await loggedIn(bob.first)).toBe(true);
    // the refusal did not use up the id: the real hook still works
    await sendHook(aliceBody, captured).expect(200, { loggedOut: 2 });
  });

  it('is its own namespace: an id equal to a used X-Hook-Signature is not a duplicate', async () => {
    const body = JSON.stringify({ userId: 'nobody' });
    const signature = signHook(TEST_HOOK_SECRET, nowSeconds(), body);
    await sendHook(body, { 'X-Hook-Signature': signature }).expect(200, { loggedOut: 0 });
    const v1 = signature.split('v1=')[1]!;
    expect(await replayRows()).toContain(v1);
    await sendHook(body, librarySigned(NEW_SECRET, v1, nowSeconds(), body)).expect(200, { loggedOut: 0 });
    expect(await replayRows()).toContain(`swh:${v1}`);
  });
});

describe('malformed Standard Webhooks headers are refused 401 and change nothing', () => {
  const at = () => nowSeconds();
  const good = (body: string, id = newId()) => librarySigned(NEW_SECRET, id, at(), body);
  const cases: Array<[string, (body: string) => Headers]> = [
    ['no webhook-id', (body) => ({ ...good(body), 'webhook-id': undefined as unknown as string })],
    ['no webhook-timestamp', (body) => ({ ...good(body), 'webhook-timestamp': undefined as unknown as string })],
    ['no webhook-signature', (body) => ({ ...good(body), 'webhook-signature': undefined as unknown as string })],
    ['an empty webhook-id', (body) => librarySigned(NEW_SECRET, '', at(), body)],
    ['a webhook-id with a space', (body) => librarySigned(NEW_SECRET, 'msg one', at(), body)],
    ['a webhook-id of 257 characters', (body) => librarySigned(NEW_SECRET, 'x'.repeat(257), at(), body)],
    ['a webhook-id of 8 000 characters', (body) => librarySigned(NEW_SECRET, 'x'.repeat(8_000), at(), body)],
    ['a timestamp that is not a number', (body) => ({ ...good(body), 'webhook-timestamp': 'soon' })],
    ['a negative timestamp', (body) => ({ ...good(body), 'webhook-timestamp': `-${at()}` })],
    ['a timestamp in milliseconds', (body) => ({ ...good(body), 'webhook-timestamp': String(at() * 1000) })],
    ['a timestamp with a fraction', (body) => ({ ...good(body), 'webhook-timestamp': `${at()}.5` })],
    ['a signature of another version only', (body) => ({ ...good(body), 'webhook-signature': good(body)['webhook-signature'].replace('v1,', 'v1a,') })],
    ['an empty v1 signature', (body) => ({ ...good(body), 'webhook-signature': 'v1,' })],
    ['an empty signature header', (body) => ({ ...good(body), 'webhook-signature': '' })],
    ['17 signatures', (body) => ({ ...good(body), 'webhook-signature': Array(17).fill(good(body)['webhook-signature']).join(' ') })],
    ['a signature header of 3 KiB', (body) => ({ ...good(body), 'webhook-signature': `${good(body)['webhook-signature']} v1,${'A'.repeat(3000)}` })],
  ];

  it.each(cases)('%s', async (_label, headersFor) => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const headers = Object.fromEntries(Object.entries(headersFor(body)).filter(([, value]) => value !== undefined));
    const before = await replayRows();
    const res = await sendHook(body, headers);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('HOOK_SIGNATURE_INVALID');
    expect(res.text).not.toMatch(/at .*\.ts|stack/i);
    expect(await loggedIn(first)).toBe(true);
    expect(await replayRows()).toEqual(before);
  });

  it('a webhook-id of 256 characters is still accepted', async () => {
    const body = JSON.stringify({ userId: 'nobody' });
    await sendHook(body, librarySigned(NEW_SECRET, `${'y'.repeat(250)}${String(++sequence).padStart(6, '0')}`, at(), body)).expect(200, { loggedOut: 0 });
  });

  it('a signed body that is not a logout is refused without using up the id', async () => {
    const id = newId();
    const wrong = '{"userId": 42}';
    expect((await sendHook(wrong, librarySigned(NEW_SECRET, id, at(), wrong)).expect(400)).body.error.code).toBe('VALIDATION_FAILED');
    const right = JSON.stringify({ userId: 'nobody' });
    await sendHook(right, librarySigned(NEW_SECRET, id, at(), right)).expect(200, { loggedOut: 0 });
  });
});

describe('the two signature schemes stay apart', () => {
  it('X-Hook-Signature still works while HOOK_SECRET is set', async () => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    await sendHook(body, { 'X-Hook-Signature': signHook(TEST_HOOK_SECRET, nowSeconds(), body) }).expect(200, { loggedOut: 2 });
    expect(await loggedIn(first)).toBe(false);
  });

  it('HOOK_SECRET used as a Standard Webhooks key is refused', async () => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const asWhsec = `whsec_${Buffer.from(TEST_HOOK_SECRET).toString('base64')}`;
    for (const headers of [librarySigned(asWhsec, newId(), nowSeconds(), body), handSigned(asWhsec, newId(), nowSeconds(), body)]) {
      expect((await sendHook(body, headers).expect(401)).body.error.code).toBe('HOOK_SIGNATURE_INVALID');
    }
    // and the X-Hook signature itself, hex or base64, in the Standard header
    const at = nowSeconds();
    const hex = signHook(TEST_HOOK_SECRET, at, body).split('v1=')[1]!;
    for (const v1 of [hex, Buffer.from(hex, 'hex').toString('base64')]) {
      const res = await sendHook(body, { 'webhook-id': newId(), 'webhook-timestamp': String(at), 'webhook-signature': `v1,${v1}` }).expect(401);
      expect(res.body.error.code).toBe('HOOK_SIGNATURE_INVALID');
    }
    expect(await loggedIn(first)).toBe(true);
  });

  it('a Standard Webhooks secret used for X-Hook-Signature is refused', async () => {
    const { first, userId } = await readerInTwoBrowsers();
    const body = JSON.stringify({ userId });
    const key = Buffer.from(NEW_SECRET.slice('whsec_'.length), 'base64');
    const at = nowSeconds();
    const byKey = createHmac('sha256', key).update(`${at}.${body}`).digest('hex');
    for (const signature of [signHook(NEW_SECRET, at, body), `t=${at},v1=${byKey}`]) {
      expect((await sendHook(body, { 'X-Hook-Signature': signature }).expect(401)).body.error.code).toBe('HOOK_SIGNATURE_INVALID');
    }
    expect(await loggedIn(first)).toBe(true);
  });

  it('with HOOK_SECRETS only, X-Hook-Signature is refused; with HOOK_SECRET only, Standard Webhooks are', async () => {
    const body = JSON.stringify({ userId: 'nobody' });
    const standardOnly = await startTestSite({ emulator: t.emulator, overrides: { hookSecret: undefined, hookSecrets: [NEW_SECRET] } });
    const xHookOnly = await startTestSite({ emulator: t.emulator, overrides: { hookSecrets: [] } });
    try {
      const refused = await sendHook(body, { 'X-Hook-Signature': signHook(TEST_HOOK_SECRET, nowSeconds(), body) }, standardOnly).expect(401);
      expect(refused.body.error).toEqual({ code: 'HOOK_DISABLED', message: 'Hooks signed with X-Hook-Signature are not enabled on this site.' });
      await sendHook(body, librarySigned(NEW_SECRET, newId(), nowSeconds(), body), standardOnly).expect(200, { loggedOut: 0 });

      const refusedToo = await sendHook(body, librarySigned(NEW_SECRET, newId(), nowSeconds(), body), xHookOnly).expect(401);
      expect(refusedToo.body.error).toEqual({ code: 'HOOK_DISABLED', message: 'Standard Webhooks are not enabled on this site.' });
      await sendHook(body, { 'X-Hook-Signature': signHook(TEST_HOOK_SECRET, nowSeconds(), body) }, xHookOnly).expect(200, { loggedOut: 0 });
    } finally {
      await standardOnly.close();
      await xHookOnly.close();
    }
  });

  it('no secret leaves the site in an answer or a log line', () => {
    const logged = t.logLines.join('\n');
    for (const secret of [NEW_SECRET, OLD_SECRET, NEW_SECRET.slice('whsec_'.length), TEST_HOOK_SECRET]) expect(logged).not.toContain(secret);
  });
});
