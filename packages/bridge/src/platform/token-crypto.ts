import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors';

/**
 * Tokens at rest: AES-256-GCM with a random 96-bit IV per write and the row's name as
 * additional data, so a sealed value copied to another row does not open there.
 */
export interface TokenSealer {
  /** Seals under the first (newest) key. */
  seal(plain: string, label: string): string;
  /** Opens with whichever listed key sealed it; a `SealedTokenError` when none did, or the value is not one of ours. */
  open(sealed: string, label: string): string;
}

/** TOKEN_KEY_UNKNOWN: no listed key opens the value. TOKEN_SEAL_DAMAGED: it is not a sealed token this version reads. */
export type SealedTokenCode = 'TOKEN_KEY_UNKNOWN' | 'TOKEN_SEAL_DAMAGED';

const MESSAGES: Record<SealedTokenCode, string> = {
  TOKEN_KEY_UNKNOWN: 'The kept platform token was sealed under a key not in TOKEN_ENCRYPTION_KEYS, or altered',
  TOKEN_SEAL_DAMAGED: 'The kept platform token is damaged, or in a format this version cannot read',
};

/** A kept token this process cannot open. Its message never holds the value, a key or the token. */
export class SealedTokenError extends AppError<SealedTokenCode> {
  constructor(code: SealedTokenCode, options?: { cause?: unknown }) {
    super(code, MESSAGES[code], options);
  }
}

// v1 carries no key id: keys are tried in turn. A new format would leave the previous release,
// still running on some instances during a rolling upgrade, unable to read what this one writes.
const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A random 32-byte key holds about 30 distinct byte values; fewer than this is a typed-in pattern. */
const MIN_DISTINCT_BYTES = 16;

/**
 * One key of TOKEN_ENCRYPTION_KEYS as 64 hex digits or base64 of 32 bytes (`openssl rand -base64 32`).
 * Returns the key, or the reason it cannot be one (too short, or visibly not random).
 */
export function parseEncryptionKey(text: string): { key: Buffer } | { problem: string } {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (!key || key.length !== KEY_BYTES) {
    return { problem: 'must be 32 random bytes, as 64 hex digits or base64 (openssl rand -base64 32)' };
  }
  if (new Set(key).size < MIN_DISTINCT_BYTES) return { problem: 'is too weak: use 32 random bytes (openssl rand -base64 32)' };
  return { key };
}

/**
 * The sealing keys, newest first, checked: at least one, each 32 bytes, none twice (a duplicate
 * is a list pasted wrong, and would hide the key that was meant). A TypeError naming `option`.
 */
export function checkSealingKeys(keys: readonly Buffer[], option: string): readonly Buffer[] {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError(`${option} must list at least one key`);
  keys.forEach((key, i) => {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new TypeError(`${option}: key ${i + 1} must be 32 bytes`);
    const first = keys.findIndex((other) => other.equals(key));
    if (first !== i) throw new TypeError(`${option}: key ${i + 1} is the same as key ${first + 1}`);
  });
  return Object.freeze(keys.map((key) => Buffer.from(key)));
}

/** One key (the older form), or several, newest first: seals under the first, opens with any. */
export function createTokenSealer(keys: Buffer | readonly Buffer[]): TokenSealer {
  const listed = checkSealingKeys(Buffer.isBuffer(keys) ? [keys] : keys, 'the token encryption keys');
  const newest = listed[0]!;
  return {
    seal(plain, label) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', newest, iv);
      cipher.setAAD(Buffer.from(label, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed, label) {
      const [version, payload] = sealed.split('.', 2);
      if (version !== VERSION || payload === undefined) throw new SealedTokenError('TOKEN_SEAL_DAMAGED');
      const raw = Buffer.from(payload, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SealedTokenError('TOKEN_SEAL_DAMAGED');
      for (const key of listed) {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(label, 'utf8'));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const body = decipher.update(raw.subarray(IV_BYTES + TAG_BYTES));
        try {
          return Buffer.concat([body, decipher.final()]).toString('utf8');
        } catch {
          // GCM's tag: not this key (or the value was altered). The next key may be the one.
        }
      }
      throw new SealedTokenError('TOKEN_KEY_UNKNOWN');
    },
  };
}
