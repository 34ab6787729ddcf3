import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Tokens at rest: AES-256-GCM with a random 96-bit IV per write and the row's name as
 * additional data, so a sealed value copied to another row does not open there.
 */
export interface TokenSealer {
  seal(plain: string, label: string): string;
  /** Throws when the value was not sealed with this key for this label. */
  open(sealed: string, label: string): string;
}

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A random 32-byte key holds about 30 distinct byte values; fewer than this is a typed-in pattern. */
const MIN_DISTINCT_BYTES = 16;

/**
 * TOKEN_ENCRYPTION_KEY as 64 hex digits or base64 of 32 bytes (`openssl rand -base64 32`).
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

export function createTokenSealer(key: Buffer): TokenSealer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new TypeError('the token encryption key must be 32 bytes');
  return {
    seal(plain, label) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(label, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed, label) {
      const [version, payload] = sealed.split('.', 2);
      if (version !== VERSION || payload === undefined) throw new Error('unknown sealed token format');
      const raw = Buffer.from(payload, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed token is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(label, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
