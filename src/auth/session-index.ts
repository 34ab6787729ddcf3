import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema';
import type { Db } from '../store/schema';

/** One logged-in session of a reader, as the sessions page shows it. */
export interface IndexedSession {
  /** names the session in forms and URLs; the session id itself never leaves the server */
  publicId: string;
  sid: string;
  startedAt: number;
  userAgent: string;
  network: string;
}

/** At most this much of a user agent is kept: enough to name the browser, too little to fill a table. */
const USER_AGENT_CHARS = 512;

/**
 * The client's network, not its address (ASVS 3.3.4 asks for the session's location; an exact
 * address is more than a reader needs to recognise it): IPv4 to its /24, IPv6 to its /48.
 */
export function networkOf(ip: string | undefined): string {
  const address = (ip ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  if (isIP(address) === 4) return address.split('.').slice(0, 3).join('.') + '.0/24';
  if (isIP(address) === 6) {
    const [head = '', tail = ''] = address.split('::');
    const groups = head.split(':').filter(Boolean);
    const fill = 8 - groups.length - tail.split(':').filter(Boolean).length;
    const full = [...groups, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail.split(':').filter(Boolean)];
    return full.slice(0, 3).join(':') + '::/48';
  }
  return 'unknown';
}

/**
 * Which host sessions each reader has (docs/accounts.md#sessions): a row per login, found by the
 * reader's id whichever store holds the sessions themselves (the database or Redis). A row whose
 * session has ended is dropped when the reader's sessions are listed or logged out.
 */
export function createSessionIndex(store: Kysely<DatabaseSchema>) {
  return {
    async record(entry: { sid: string; userId: number; startedAt: number; userAgent: string | undefined; ip: string | undefined; idpSid?: string | undefined }): Promise<void> {
      const values = {
        public_id: randomBytes(16).toString('base64url'),
        sid: entry.sid,
        user_id: entry.userId,
        started_at: entry.startedAt,
        user_agent: (entry.userAgent ?? '').slice(0, USER_AGENT_CHARS),
        network: networkOf(entry.ip),
        idp_sid: entry.idpSid ?? null,
      };
      await store
        .insertInto('user_sessions')
        .values(values)
        .onConflict((oc) => oc.column('sid').doUpdateSet({ user_id: values.user_id, started_at: values.started_at, user_agent: values.user_agent, network: values.network, idp_sid: values.idp_sid }))
        .execute();
    },

    async list(userId: number): Promise<IndexedSession[]> {
      const rows = await store.selectFrom('user_sessions').selectAll().where('user_id', '=', userId).orderBy('started_at', 'desc').execute();
      return rows.map((row) => ({ publicId: row.public_id, sid: row.sid, startedAt: Number(row.started_at), userAgent: row.user_agent, network: row.network }));
    },

    /** The host sessions logged in under one session of the OpenID Provider (docs/oidc-login.md#back-channel-logout). */
    async sidsOfProviderSession(idpSid: string): Promise<string[]> {
      const rows = await store.selectFrom('user_sessions').select('sid').where('idp_sid', '=', idpSid).execute();
      return rows.map((row) => row.sid);
    },

    async forget(sids: readonly string[]): Promise<void> {
      if (sids.length > 0) await store.deleteFrom('user_sessions').where('sid', 'in', sids).execute();
    },

    async forgetUser(db: Db, userId: number): Promise<void> {
      await db.deleteFrom('user_sessions').where('user_id', '=', userId).execute();
    },
  };
}

export type SessionIndex = ReturnType<typeof createSessionIndex>;
