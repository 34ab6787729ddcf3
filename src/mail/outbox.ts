import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Clock } from 'vf-login-bridge';
import type { Logger } from '../logger';
import type { Db } from '../store/schema';
import type { DatabaseSchema } from '../store/schema';
import type { MailMessage, MailTransport } from './transport';

/** A claimed message not sent within this long is free for another instance to claim. */
const CLAIM_MS = 60_000;
/** Messages one delivery pass takes at most. */
const BATCH = 20;
/** The wait before the next attempt doubles from this up to the cap; a message is never dropped. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 60 * 60_000;

export interface MailOutbox {
  /**
   * Queues a message in the caller's transaction, so an account change and its mail are written
   * together or not at all. Nothing is sent here: call `kick()` after the transaction commits.
   */
  queue(db: Db, message: MailMessage): Promise<void>;
  /** Starts a delivery pass soon, without waiting for it: the request that queued mail is never held up. */
  kick(): void;
  /** Sends what is due, each message claimed so that exactly one instance sends it; returns how many went. */
  deliver(): Promise<number>;
  /** Messages waiting. */
  count(): Promise<number>;
  /** Waits for the passes under way. */
  idle(): Promise<void>;
}

/**
 * Mail is written to the `mail_outbox` table and sent from there (docs/accounts.md#mail), like the
 * platform's queued logouts: a message the SMTP server refuses, or that meets no server, is tried
 * again with a growing wait, on whichever instance claims it next, and leaves the table once sent.
 */
export function createMailOutbox(deps: { db: Kysely<DatabaseSchema>; transport: MailTransport; clock: Clock; logger: Logger }): MailOutbox {
  const { db, transport, clock, logger } = deps;
  let pass: Promise<number> | undefined;
  let again = false;

  async function claim(): Promise<{ token: string; rows: Array<{ id: number; recipient: string; subject: string; text_body: string; html_body: string | null; attempts: number }> }> {
    const now = clock.now();
    const token = randomUUID();
    const unclaimed = (eb: ExpressionBuilder<DatabaseSchema, 'mail_outbox'>) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]);
    // The claim condition is checked again on each row the UPDATE writes: of several instances, one gets it.
    const rows = await db
      .updateTable('mail_outbox')
      .set({ claim_token: token, claimed_until: now + CLAIM_MS })
      .where(unclaimed)
      .where('id', 'in', (eb) => eb.selectFrom('mail_outbox').select('id').where('next_attempt_at', '<=', now).where(unclaimed).orderBy('next_attempt_at').limit(BATCH))
      .returning(['id', 'recipient', 'subject', 'text_body', 'html_body', 'attempts'])
      .execute();
    return { token, rows };
  }

  async function sendOne(row: { id: number; recipient: string; subject: string; text_body: string; html_body: string | null; attempts: number }, token: string): Promise<boolean> {
    try {
      await transport.send({ to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body ?? undefined });
    } catch (error) {
      const attempts = row.attempts + 1;
      const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempts - 1, 20));
      await db
        .updateTable('mail_outbox')
        .set({ attempts, next_attempt_at: clock.now() + wait, claim_token: null, claimed_until: null })
        .where('id', '=', row.id)
        .where('claim_token', '=', token)
        .execute();
      // The reason, never the message: it may hold a one-time link.
      logger.warn({ code: 'MAIL_SEND_FAILED', mailId: row.id, attempts, retryInMs: wait, reason: error instanceof Error ? error.message : String(error) }, 'mail not sent; it stays queued and is tried again');
      return false;
    }
    await db.deleteFrom('mail_outbox').where('id', '=', row.id).where('claim_token', '=', token).execute();
    return true;
  }

  async function deliverAll(): Promise<number> {
    let sent = 0;
    for (;;) {
      const { token, rows } = await claim();
      for (const row of rows) if (await sendOne(row, token)) sent++;
      if (rows.length < BATCH) return sent;
    }
  }

  function deliver(): Promise<number> {
    // One pass at a time per instance; a kick during a pass runs one more after it.
    if (pass) {
      again = true;
      return pass;
    }
    pass = deliverAll().finally(() => {
      pass = undefined;
      if (again) {
        again = false;
        void deliver().catch(() => undefined);
      }
    });
    return pass;
  }

  return {
    async queue(tx, message) {
      // RFC 2606 reserves .invalid: such an address (src/oidc/identities.ts) can never receive mail.
      if (/\.invalid$/i.test(message.to)) return;
      const now = clock.now();
      await tx
        .insertInto('mail_outbox')
        .values({ recipient: message.to, subject: message.subject, text_body: message.text, html_body: message.html ?? null, created_at: now, attempts: 0, next_attempt_at: now, claim_token: null, claimed_until: null })
        .execute();
    },
    kick() {
      deliver().catch((error: unknown) => logger.warn({ code: 'MAIL_SEND_FAILED', reason: error instanceof Error ? error.message : String(error) }, 'mail delivery pass failed; the next one tries again'));
    },
    deliver,
    async count() {
      const row = await db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async idle() {
      while (pass) await pass.catch(() => undefined);
    },
  };
}
