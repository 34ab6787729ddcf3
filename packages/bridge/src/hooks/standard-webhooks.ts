import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SIGNATURE_TOLERANCE_SECONDS } from './signature';

/**
 * Standard Webhooks (docs/webhooks.md): `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<body>`,
 * keyed with the base64 after `whsec_`). The HMAC is the standardwebhooks package's own
 * `sign`; the time check is ours, on the injected clock, because the package's `verify` reads
 * `Date.now()`.
 */

const SECRET_PREFIX = 'whsec_';
/** The specification asks for keys of 24 to 64 random bytes; fewer is too weak to accept. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
/** The longest `webhook-id` kept: ids are stored to refuse a second delivery, so their size is bounded. */
export const WEBHOOK_ID_MAX_LENGTH = 256;
/** Several signatures are for key rotation: a handful is plenty, more is only work for an attacker. */
const MAX_SIGNATURES = 16;
const MAX_SIGNATURE_HEADER_LENGTH = 2048;

/**
 * Why a Standard Webhooks secret cannot be used, or undefined when it can. The reason never
 * repeats the secret, so it can go into a configuration error line.
 */
export function webhookSecretProblem(secret: unknown): string | undefined {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) return `must start with ${SECRET_PREFIX}`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return `must be ${SECRET_PREFIX} followed by standard base64 (with its = padding)`;
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) return `must hold ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes after ${SECRET_PREFIX} (it holds ${bytes})`;
  return undefined;
}

/** One signer per secret, each checked first: every secret given is accepted (rotation). */
export function createWebhookSigners(secrets: readonly string[], owner: string): Webhook[] {
  return secrets.map((secret, index) => {
    const problem = webhookSecretProblem(secret);
    if (problem) throw new TypeError(`${owner}: webhook secret ${index + 1} ${problem}`);
    return new Webhook(secret);
  });
}

/**
 * The three headers of one Standard Webhook, signed with `secret` (`whsec_...`) at `unixSeconds`:
 * what a sender of the logout hook puts on its request.
 */
export function standardWebhookHeaders(secret: string, id: string, unixSeconds: number, body: string | Buffer): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const problem = webhookSecretProblem(secret);
  if (problem) throw new TypeError(`standardWebhookHeaders: the secret ${problem}`);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(unixSeconds),
    'webhook-signature': new Webhook(secret).sign(id, new Date(unixSeconds * 1000), body),
  };
}

export interface WebhookHeaders {
  id: unknown;
  timestamp: unknown;
  signature: unknown;
}

export type WebhookCheck = { ok: true; id: string; timestamp: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/** Visible ASCII, no space: what every sender's ids are (`msg_...`, UUIDs, ULIDs). */
const ID_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${WEBHOOK_ID_MAX_LENGTH}}$`);

/** The `v1` signatures of the header, as sent; other versions (`v1a`, asymmetric) are not ours to check. */
function v1Signatures(header: string): string[] | undefined {
  const entries = header.split(' ').filter((entry) => entry !== '');
  if (entries.length === 0 || entries.length > MAX_SIGNATURES) return undefined;
  const v1 = entries.filter((entry) => entry.startsWith('v1,'));
  return v1.length > 0 ? v1 : undefined;
}

/**
 * Checks one request's headers and raw body against every signer at `nowSeconds` (the injected
 * clock). Passes when any signature of the header matches any secret.
 */
export function verifyStandardWebhook(signers: readonly Webhook[], headers: WebhookHeaders, rawBody: Buffer, nowSeconds: number): WebhookCheck {
  const { id, timestamp: t, signature } = headers;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return { ok: false, reason: 'malformed' };
  if (typeof t !== 'string' || !/^\d{1,12}$/.test(t)) return { ok: false, reason: 'malformed' };
  if (typeof signature !== 'string' || signature.length > MAX_SIGNATURE_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
  const given = v1Signatures(signature)?.map((candidate) => Buffer.from(candidate, 'latin1'));
  if (!given) return { ok: false, reason: 'malformed' };
  const timestamp = Number(t);
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale' };
  const signedAt = new Date(timestamp * 1000);
  for (const signer of signers) {
    const expected = Buffer.from(signer.sign(id, signedAt, rawBody), 'utf8');
    // Constant time over equal lengths: the comparison must not tell how much of a guess was right.
    if (given.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { ok: true, id, timestamp };
    }
  }
  return { ok: false, reason: 'mismatch' };
}
