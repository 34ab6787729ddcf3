import nodemailer from 'nodemailer';

/** One message as it leaves the site: always a plain-text part, sometimes an HTML one. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string | undefined;
}

/** Where mail goes: an SMTP server, or the development inbox (src/mail/dev-inbox.ts). */
export interface MailTransport {
  /** Resolves once the message is accepted; rejects when it was not (the outbox tries again). */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** A message that could not be sent is retried; the connection gives up quickly so a retry is not held up. */
const SMTP_TIMEOUT_MS = 10_000;

/**
 * SMTP through nodemailer: `smtp://` (STARTTLS when the server offers it) or `smtps://` (TLS from
 * the start), credentials in the URL. One pooled connection is reused across messages.
 */
export function createSmtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 2,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    async send(message) {
      await transporter.sendMail({ from, to: message.to, subject: message.subject, text: message.text, ...(message.html ? { html: message.html } : {}) });
    },
    close: () => transporter.close(),
  };
}
