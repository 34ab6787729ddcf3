import type { MailMessage } from './transport';

/** The site's name in every message's subject and signature. */
const SITE = 'The Harbour Ledger';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * A message of paragraphs: the plain-text part every message has, and an HTML part with the same
 * words (a link becomes clickable). Names and addresses come from readers, so they are escaped.
 */
function compose(to: string, subject: string, paragraphs: ReadonlyArray<string | { link: string }>): MailMessage {
  const text = paragraphs.map((p) => (typeof p === 'string' ? p : p.link)).join('\n\n') + `\n\n— ${SITE}\n`;
  const html = paragraphs
    .map((p) => (typeof p === 'string' ? `<p>${escapeHtml(p)}</p>` : `<p><a href="${escapeHtml(p.link)}">${escapeHtml(p.link)}</a></p>`))
    .join('\n');
  return { to, subject: `${subject} · ${SITE}`, text, html: `${html}\n<p>— ${SITE}</p>\n` };
}

export function verifyAddressMail(to: string, name: string, link: string, change: boolean): MailMessage {
  return compose(to, 'Confirm your email address', [
    `Hello ${name},`,
    change
      ? 'You asked to use this address for your account. Open this link within 24 hours to confirm it; until then your old address stays in use:'
      : 'Welcome. Open this link within 24 hours to confirm your email address:',
    { link },
    'If you did not ask for this, ignore this message: nothing changes.',
  ]);
}

export function emailChangeRequestedMail(to: string, name: string, newAddress: string): MailMessage {
  return compose(to, 'A change of your email address was asked', [
    `Hello ${name},`,
    `Someone logged in to your account asked to change its email address to ${newAddress}. This address stays in use until the new one is confirmed from that mailbox.`,
    'If this was not you, change your password now and log out your other sessions from your account page.',
  ]);
}

export function passwordResetMail(to: string, name: string, link: string): MailMessage {
  return compose(to, 'Reset your password', [
    `Hello ${name},`,
    'Open this link within one hour to choose a new password. Every session of yours will be logged out:',
    { link },
    'If you did not ask for this, ignore this message: your password stays as it is.',
  ]);
}

export function accountDeletedMail(to: string, name: string): MailMessage {
  return compose(to, 'Your account was deleted', [
    `Hello ${name},`,
    'Your account and everything this site kept about you have been deleted, and every session of yours was logged out. You can register again with this address at any time.',
  ]);
}

/** ASVS 2.5.5: a changed authenticator is told to its owner, so a change they did not make does not go unseen. */
export function passwordChangedMail(to: string, name: string, how: 'changed' | 'reset'): MailMessage {
  return compose(to, 'Your password was changed', [
    `Hello ${name},`,
    how === 'reset'
      ? 'The password of your account was just reset from a link mailed to this address. Every session of yours was logged out.'
      : 'The password of your account was just changed from your account page. Every other session of yours was logged out.',
    'If this was not you, use "Forgot your password?" on the login page now: it logs out whoever made the change.',
  ]);
}
