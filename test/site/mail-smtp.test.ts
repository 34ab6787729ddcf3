import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { register, uniqueEmail } from '../helpers/browser-flow';
import { createTestStores, type TestStores } from '../helpers/backend';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { confirmLink, linkIn } from '../helpers/mail';
import { startTestSite, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';
import { createSmtpTransport, type MailTransport } from '../../src/mail/transport';

const PUBLIC_URL = 'https://news.example';
const FROM = 'Site <no-reply@news.example>';

/** A mail server on 127.0.0.1 that keeps what it accepts, raw, and can be told to refuse. */
interface TestSmtp {
  url: string;
  received: string[];
  /** DATA transactions seen, accepted or not */
  attempts: number;
  /** set: the next messages are refused with a temporary failure */
  refuse: boolean;
  /** set: a message is held until this resolves, then refused or accepted */
  hold: Promise<void> | undefined;
  close(): Promise<void>;
}

async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = {
    url: '',
    received: [],
    attempts: 0,
    refuse: false,
    hold: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.attempts += 1;
        void (state.hold ?? Promise.resolve()).then(() => {
          if (state.refuse) return callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }));
          state.received.push(Buffer.concat(chunks).toString('utf8'));
          callback();
        });
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return state;
}

/** Headers (names lower-cased, folded lines joined) and body, split at the first blank line. */
function splitEntity(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: raw.slice(at + 4) };
}

function decodeBody(body: string, encoding: string | undefined): string {
  if (/base64/i.test(encoding ?? '')) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding ?? '')) {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** The message's headers and its parts by content type (one part when it is not multipart). */
function parseMessage(raw: string): { headers: Record<string, string>; parts: Array<{ type: string; text: string }> } {
  const { headers, body } = splitEntity(raw);
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  const entities = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((part) => splitEntity(part.replace(/^\r\n/, '')))
    : [{ headers, body }];
  return {
    headers,
    parts: entities.map((entity) => ({
      type: (entity.headers['content-type'] ?? 'text/plain').split(';')[0]!.trim().toLowerCase(),
      text: decodeBody(entity.body, entity.headers['content-transfer-encoding']),
    })),
  };
}

const textOf = (raw: string): string => {
  const part = parseMessage(raw).parts.find((p) => p.type === 'text/plain');
  if (!part) throw new Error(`no text/plain part in:\n${raw}`);
  return part.text;
};

describe('mail over SMTP', () => {
  let smtp: TestSmtp;
  let t: TestSite;
  beforeEach(async () => {
    smtp = await startSmtp();
    t = await startTestSite({ overrides: { mail: { transport: createSmtpTransport(smtp.url, FROM), publicUrl: PUBLIC_URL } } });
  });
  afterEach(async () => {
    await t.close();
    await smtp.close();
  });

  it("registration's verification mail arrives with a text/plain part and a link that opens", async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    await waitFor(() => smtp.received.length === 1, 'the verification mail');

    const message = parseMessage(smtp.received[0]!);
    expect(message.headers.to).toBe(email);
    expect(message.headers.from).toContain('no-reply@news.example');
    expect(message.parts.map((p) => p.type)).toEqual(expect.arrayContaining(['text/plain', 'text/html']));
    const link = linkIn(textOf(smtp.received[0]!), '/email/verify');
    expect(link.startsWith(`${PUBLIC_URL}/email/verify?token=`)).toBe(true);

    expect((await confirmLink(agent, link)).confirm.headers.location).toBe('/account?verified=1');
    expect(await t.site.mail.count()).toBe(0);
    // With a mail server there is no development inbox to show.
    expect(t.site.devInbox).toBeUndefined();
    await t.agent().get('/dev/mail').expect(404);
  });

  it('a refusing server leaves the message queued without holding up the request; a later pass sends it exactly once', async () => {
    let letGo!: () => void;
    smtp.hold = new Promise<void>((resolve) => (letGo = resolve));
    smtp.refuse = true;

    // The server holds the message: had the request waited for the mail, it would not be answered.
    const { res } = await register(t.agent());
    expect(res.status).toBe(303);
    await waitFor(() => smtp.attempts === 1, 'the first attempt');
    letGo();
    smtp.hold = undefined;
    await waitFor(() => t.logLines.some((line) => line.includes('MAIL_SEND_FAILED')), 'the failure logged');
    await t.site.mail.idle();
    expect(await t.site.mail.count()).toBe(1);
    expect(smtp.received).toHaveLength(0);

    // Accepting again, but the retry is not due yet: nothing is tried.
    smtp.refuse = false;
    await t.site.jobs.run('deliver');
    expect(smtp.attempts).toBe(1);

    t.clock.advance(6_000);
    await t.site.jobs.run('deliver');
    await t.site.jobs.run('deliver');
    expect(smtp.received).toHaveLength(1);
    expect(await t.site.mail.count()).toBe(0);

    const link = linkIn(textOf(smtp.received[0]!), '/email/verify');
    const failures = t.logLines.filter((line) => line.includes('MAIL_SEND_FAILED'));
    expect(failures).toHaveLength(1);
    for (const line of t.logLines) {
      expect(line).not.toContain(new URL(link).searchParams.get('token')!);
      expect(line).not.toContain('/email/verify');
    }
  });
});

describe('two sites on the same stores', () => {
  let smtp: TestSmtp;
  let emulator: TestEmulator;
  let stores: TestStores;
  const sites: TestSite[] = [];
  /** messages each site handed to its transport */
  const sentBy = [0, 0];
  beforeAll(async () => {
    smtp = await startSmtp();
    emulator = await startTestEmulator();
    stores = await createTestStores();
    // One after another: the first migrates the database.
    for (let i = 0; i < 2; i += 1) {
      const smtpTransport = createSmtpTransport(smtp.url, FROM);
      const site = i;
      const transport: MailTransport = {
        send: (message) => {
          sentBy[site] += 1;
          return smtpTransport.send(message);
        },
        close: () => smtpTransport.close(),
      };
      sites.push(await startTestSite({ emulator, stores, overrides: { mail: { transport, publicUrl: PUBLIC_URL } } }));
    }
  });
  afterAll(async () => {
    for (const t of sites.splice(0)) await t.close();
    await emulator.close();
    await stores.drop();
    await smtp.close();
  });

  it('delivering at once, they send each message exactly once', async () => {
    const [a, b] = sites as [TestSite, TestSite];
    // Queued without a kick, so that both passes find them all waiting; more than one claim's batch.
    const recipients = Array.from({ length: 45 }, () => uniqueEmail('many'));
    for (const to of recipients) await a.site.mail.queue(a.site.database.db, { to, subject: 'One of many', text: `For ${to}` });

    // The server holds the first message each site sends, so both passes are under way at once.
    let letGo!: () => void;
    smtp.hold = new Promise<void>((resolve) => (letGo = resolve));
    const passes = Promise.all([a.site.jobs.run('deliver'), b.site.jobs.run('deliver'), a.site.mail.deliver(), b.site.mail.deliver()]);
    await waitFor(() => smtp.attempts === 2, 'a message from each site in flight');
    expect(sentBy).toEqual([1, 1]);
    letGo();
    smtp.hold = undefined;
    await passes;
    await Promise.all([a.site.mail.idle(), b.site.mail.idle()]);

    const sentTo = smtp.received.map((raw) => parseMessage(raw).headers.to);
    expect(sentTo).toHaveLength(recipients.length);
    expect(new Set(sentTo)).toEqual(new Set(recipients));
    expect(await a.site.mail.count()).toBe(0);
    expect(sentBy[0]! + sentBy[1]!).toBe(recipients.length);
  });
});
