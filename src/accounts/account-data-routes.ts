import { Router } from 'express';
import type { Kysely } from 'kysely';
import type { Clock } from 'vf-login-bridge';
import { RequestError } from '../errors';
import type { MailOutbox } from '../mail/outbox';
import type { DatabaseSchema } from '../store/schema';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import { createAccountDeletion } from './account-deletion';
import { createAccountExport } from './account-export';
import { createIdentityStore } from '../store/identity-store';
import type { AccountTokens } from './account-tokens';
import { createCurrentPasswordCheck } from './current-password';
import { accountForm, parseForm } from '../auth/forms';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { PasswordHasher } from '../auth/passwords';
import type { ReaderSessions } from './reader-sessions';
import { reshowForm } from '../web/form-pages';
import type { SessionIndex } from '../auth/session-index';
import type { TrustedDevices } from '../auth/trusted-device';
import type { UserStore } from '../store/user-store';
import type { Verification } from './verification';

export interface AccountDataRouteDeps {
  db: Kysely<DatabaseSchema>;
  users: UserStore;
  passwords: PasswordHasher;
  devices: TrustedDevices;
  tokens: AccountTokens;
  index: SessionIndex;
  outbox: MailOutbox;
  hostSessions: HostSessions;
  guard: LoginGuard;
  verification: Verification;
  readerSessions: ReaderSessions;
  clock: Clock;
  render: Render;
}

/** The current password alone, under the account form's rules for it. */
const deleteForm = accountForm.pick({ currentPassword: true });

/**
 * What the site holds about the reader, theirs to take away (`GET /account/export`) or to have
 * erased (`POST /account/delete`, with the current password, like an email change).
 */
export function createAccountDataRoutes(deps: AccountDataRouteDeps): Router {
  const { hostSessions, guard, render } = deps;
  const checkCurrentPassword = createCurrentPasswordCheck(deps);
  const identities = createIdentityStore(deps.db);
  const deletion = createAccountDeletion({ ...deps, identities });
  const exporter = createAccountExport({ ...deps, identities });
  const router = Router();

  router.post('/account/delete', async (req, res) => {
    const current = req.user;
    if (!current) throw new RequestError('UNAUTHENTICATED', 'Log in to delete your account.');
    try {
      await guard.changeAccount(current.id, req.ip ?? 'unknown');
      const form = parseForm(deleteForm, req.body);
      await checkCurrentPassword(req, current, form.currentPassword, 'delete your account');
      await deletion.erase(current);
      // Every session of the account has ended, this one too; this request lets go of it as well,
      // so nothing of it is saved when the answer goes.
      await hostSessions.logOut(req);
      if (wantsJson(req)) res.json({ ok: true, deleted: true });
      else res.redirect(303, '/?deleted=1');
    } catch (error) {
      reshowForm(req, res, render, 'account', error, { email: current.email, name: current.name });
    }
  });

  router.get('/account/export', async (req, res) => {
    const user = req.user;
    if (!user) {
      if (wantsJson(req)) throw new RequestError('UNAUTHENTICATED', 'Log in to download your data.');
      return res.redirect(303, '/login?returnTo=%2Faccount%2Fexport');
    }
    const data = await exporter.exportOf(user, req.sessionID);
    if (!data) throw new RequestError('UNAUTHENTICATED', 'Log in to download your data.');
    // A download, never a page: no browser renders it, and no cache keeps it (ASVS 8.2.1).
    res.setHeader('Content-Disposition', 'attachment; filename="account.json"');
    res.setHeader('Cache-Control', 'no-store');
    res.type('application/json').send(JSON.stringify(data, null, 2));
  });

  return router;
}
