import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { MailMessage } from '../../src/mail/transport';
import { csrfFrom } from './browser-flow';
import type { TestSite } from './site';
import { waitFor } from './wait-for';

/** A message the development inbox kept, with when it arrived. */
export type ReceivedMail = MailMessage & { at: number };

/** The subjects' distinguishing words (src/mail/messages.ts). */
export const SUBJECTS = {
  verify: 'Confirm your email address',
  changeNotice: 'A change of your email address was asked',
  reset: 'Reset your password',
  passwordChanged: 'Your password was changed',
} as const;

/** The first link in a message's text whose path is `path`, on whatever origin; throws when there is none. */
export function linkIn(text: string, path: string): string {
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    if (new URL(match[0]).pathname === path) return match[0];
  }
  throw new Error(`no link to ${path} in the message:\n${text}`);
}

/** The path and query of a link, for a supertest agent that speaks to the app directly. */
export function pathOf(link: string): string {
  const url = new URL(link);
  return url.pathname + url.search;
}

/** The mail the development inbox holds for `to` with `subjectPart` in its subject, newest first. */
export function mailTo(t: TestSite, to: string, subjectPart: string): ReceivedMail[] {
  const inbox = t.site.devInbox;
  if (!inbox) throw new Error('this site sends mail over SMTP: read it from the SMTP server');
  const address = to.toLowerCase();
  return inbox.messages().filter((message) => message.to === address && message.subject.includes(subjectPart));
}

/**
 * Waits until the development inbox holds `count` (default 1) messages to `to` with `subjectPart`
 * in the subject, and returns the newest. Each check runs a delivery pass, so mail queued without
 * a kick (or whose kick ran before it was queued) arrives too.
 */
export async function waitForMail(t: TestSite, to: string, subjectPart: string, options: { count?: number } = {}): Promise<ReceivedMail> {
  const count = options.count ?? 1;
  await waitFor(async () => {
    if (mailTo(t, to, subjectPart).length >= count) return true;
    await t.site.mail.deliver();
    return mailTo(t, to, subjectPart).length >= count;
  }, `${count} mail(s) to ${to} about "${subjectPart}"`);
  return mailTo(t, to, subjectPart)[0]!;
}

/** Opens a verification link as a browser does: the page (which spends nothing), then its button. */
export async function confirmLink(agent: TestAgent, link: string): Promise<{ page: Response; confirm: Response }> {
  const page = await agent.get(pathOf(link));
  if (page.status !== 200) return { page, confirm: page };
  const token = new URL(link).searchParams.get('token');
  const confirm = await agent.post('/email/verify').type('form').send({ _csrf: csrfFrom(page.text), token });
  return { page, confirm };
}

/**
 * Follows the newest verification link mailed to `email`, end to end, in `agent`'s browser:
 * 303 to the account page when it is logged in as that reader, else the confirmation page.
 */
export async function verifyEmail(t: TestSite, agent: TestAgent, email: string): Promise<Response> {
  const mail = await waitForMail(t, email, SUBJECTS.verify);
  const { confirm } = await confirmLink(agent, linkIn(mail.text, '/email/verify'));
  if (confirm.status !== 303 && confirm.status !== 200) throw new Error(`confirming ${email} answered ${confirm.status}: ${confirm.text.slice(0, 300)}`);
  return confirm;
}
