import { createHash, timingSafeEqual } from 'node:crypto';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function sameBytes(a: Buffer, b: Buffer): boolean {
  // Digests have equal length, so the compare takes the same time whatever the lengths were.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** application/x-www-form-urlencoded decoding of one value ('+' is a space); null when malformed. */
function formDecode(bytes: Buffer): Buffer | null {
  try {
    return Buffer.from(decodeURIComponent(bytes.toString('utf8').replace(/\+/g, ' ')), 'utf8');
  } catch {
    return null;
  }
}

/**
 * Checks the token-endpoint credentials of a Basic dialect: base64, split at the first ':'.
 * `raw` (seed 003) compares the bytes as `curl --user SITE_ID:API_KEY` sends them, with no
 * URL-decoding: the platform compares what curl sends, so a client that form-encodes '+', '/'
 * or '=' in the key is refused, as the real platform would refuse it. `form` (RFC 6749 §2.3.1)
 * form-decodes each half first, so a client sending raw '%' or '+' is refused instead.
 */
export function createClientCredentialsCheck(siteId: string, apiKey: string, encoding: 'raw' | 'form' = 'raw'): (basicParam: string | null) => boolean {
  const expectedUser = Buffer.from(siteId, 'utf8');
  const expectedPassword = Buffer.from(apiKey, 'utf8');
  return (basicParam) => {
    if (basicParam === null || !BASE64.test(basicParam)) return false;
    const decoded = Buffer.from(basicParam, 'base64');
    const colon = decoded.indexOf(0x3a);
    if (colon < 0) return false;
    const user = encoding === 'form' ? formDecode(decoded.subarray(0, colon)) : decoded.subarray(0, colon);
    const password = encoding === 'form' ? formDecode(decoded.subarray(colon + 1)) : decoded.subarray(colon + 1);
    const userMatches = sameBytes(user ?? Buffer.alloc(0), expectedUser);
    const passwordMatches = sameBytes(password ?? Buffer.alloc(0), expectedPassword);
    // Both compares always run, so timing does not tell which half was wrong.
    return user !== null && password !== null && userMatches && passwordMatches;
  };
}
