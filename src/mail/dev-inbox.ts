import type { MailMessage, MailTransport } from './transport';

/** How many messages the development inbox keeps, newest first. */
const KEPT = 50;

export interface DevInbox extends MailTransport {
  /** the messages "sent" so far, newest first, each with when it arrived */
  messages(): ReadonlyArray<MailMessage & { at: number }>;
}

/**
 * Outside production with no SMTP_URL, mail goes here and the site shows it at /dev/mail
 * (src/web/dev-mail.ts): a developer follows a verification or reset link without a mail server.
 */
export function createDevInbox(now: () => number): DevInbox {
  const kept: Array<MailMessage & { at: number }> = [];
  return {
    async send(message) {
      kept.unshift({ ...message, at: now() });
      kept.length = Math.min(kept.length, KEPT);
    },
    messages: () => kept,
    close: () => undefined,
  };
}
