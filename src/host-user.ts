import type { HostUser } from 'vf-login-bridge';

/** A reader as the site knows them: the columns every part of the site reads (src/store/user-store.ts). */
export interface SiteReader {
  id: number;
  email: string;
  name: string;
  emailVerified: boolean;
}

/**
 * The host user as the platform sees it: its own id, never a fixed admin id; the email only once
 * the reader has confirmed it (docs/accounts.md#verified-addresses)
 * (docs/platform-protocol.md#accounts-login). Logins (src/auth/) and page views (src/web/) both
 * speak to the bridge with it, so it lives beside neither.
 */
export function toHostUser(user: SiteReader): HostUser {
  return user.emailVerified ? { id: String(user.id), name: user.name, email: user.email } : { id: String(user.id), name: user.name };
}
