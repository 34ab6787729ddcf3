import { createHash, timingSafeEqual } from 'node:crypto';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function sameBytes(a: Buffer, b: Buffer): boolean {
  // Digests have equal length, so the compare takes the same time whatever the lengths were.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Checks the token-endpoint credentials the way `curl --user SITE_ID:API_KEY` sends them:
 * base64 of the raw bytes, split at the first ':'. Deliberately no URL-decoding (which
 * RFC 6749 §2.3.1 would ask for): the platform compares what curl sends, so a client that
 * form-encodes '+', '/' or '=' in the key is refused, as it would be by the real platform.
 */
export function createClientCredentialsCheck(siteId: string, apiKey: string): (basicParam: string | null) => boolean {
  const expectedUser = Buffer.from(siteId, 'utf8');
  const expectedPassword = Buffer.from(apiKey, 'utf8');
  return (basicParam) => {
    if (basicParam === null || !BASE64.test(basicParam)) return false;
    const decoded = Buffer.from(basicParam, 'base64');
    const colon = decoded.indexOf(0x3a);
    if (colon < 0) return false;
    const userMatches = sameBytes(decoded.subarray(0, colon), expectedUser);
    const passwordMatches = sameBytes(decoded.subarray(colon + 1), expectedPassword);
    // Both compares always run, so timing does not tell which half was wrong.
    return userMatches && passwordMatches;
  };
}
