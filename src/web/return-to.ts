const BASE = 'http://same-site.invalid';

/**
 * `returnTo` may only bring the reader back to a path on this site: anything that would leave it
 * (`//evil.example`, `/\evil.example`, `https://...`, `javascript:`) falls back to `/`.
 * An open redirect after login is a phishing tool.
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback;
  try {
    const url = new URL(value, BASE);
    if (url.origin !== BASE) return fallback;
    const path = url.pathname + url.search + url.hash;
    // Dot segments are resolved only now: `/.//evil.example` has just become `//evil.example`.
    return path.startsWith('//') ? fallback : path;
  } catch {
    return fallback;
  }
}
