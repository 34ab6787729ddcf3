import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old a signature may be (README.md#the-logout-hook). */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

/** `X-Hook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` */
export function signHook(secret: string, unixSeconds: number, rawBody: string | Buffer): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, rawBody)}`;
}

function hmacHex(secret: string, unixSeconds: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.`).update(rawBody).digest('hex');
}

export type SignatureCheck =
  | { ok: true; timestamp: number; v1: string }
  | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

export function verifyHookSignature(secret: string, header: unknown, rawBody: Buffer, nowSeconds: number): SignatureCheck {
  if (typeof header !== 'string' || header.length > 200) return { ok: false, reason: 'malformed' };
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/i.test(v1)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(t);
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
  const given = Buffer.from(v1, 'hex');
  // Constant time: the comparison must not tell an attacker how many leading bytes were right.
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: 'mismatch' };
  return { ok: true, timestamp, v1: v1.toLowerCase() };
}
