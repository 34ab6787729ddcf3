import type { UserStore } from '../store/user-store';

/** What `npm run admin -- ...` was asked to do (docs/accounts.md#roles). */
export type AdminCommand = { readonly action: 'grant' | 'revoke'; readonly email: string } | { readonly action: 'list' };

export const ADMIN_USAGE = 'Usage: npm run admin -- grant EMAIL | revoke EMAIL | list';

/** What to print and how to exit: results on stdout, notes and refusals on stderr. */
export interface AdminOutcome {
  readonly out: readonly string[];
  readonly err: readonly string[];
  readonly exitCode: 0 | 1;
}

// Only the shape is checked: an address no account has is answered by the store, not guessed at here.
const ADDRESS = /^[^\s@]+@[^\s@]+$/;

/** The arguments after `--`, or undefined when they are not a command (the caller prints the usage). */
export function parseAdminCommand(argv: readonly string[]): AdminCommand | undefined {
  const [action, email, ...extra] = argv;
  if (extra.length > 0) return undefined;
  if (action === 'list') return email === undefined ? { action } : undefined;
  if (action !== 'grant' && action !== 'revoke') return undefined;
  return email !== undefined && ADDRESS.test(email.trim()) ? { action, email: email.trim() } : undefined;
}

type RoleStore = Pick<UserStore, 'setRole' | 'listByRole'>;

/** Runs one command against the store; the role is read on every request, so it applies at once. */
export function runAdminCommand(command: AdminCommand, users: RoleStore): Promise<AdminOutcome> {
  if (command.action === 'list') return listAdministrators(users);
  return command.action === 'grant' ? grant(users, command.email) : revoke(users, command.email);
}

const noAccount = (email: string): AdminOutcome => ({ out: [], err: [`no account with that email: ${email}`], exitCode: 1 });

async function grant(users: RoleStore, email: string): Promise<AdminOutcome> {
  const user = await users.setRole(email, 'admin');
  if (!user) return noAccount(email);
  // Allowed, unlike ADMIN_EMAILS at start-up: the operator running this vouches for the person.
  const err = user.emailVerified ? [] : [`note: ${user.email} is not verified; nobody has shown they read that mailbox`];
  return { out: [`granted: ${user.email}`], err, exitCode: 0 };
}

async function revoke(users: RoleStore, email: string): Promise<AdminOutcome> {
  const user = await users.setRole(email, 'reader');
  return user ? { out: [`revoked: ${user.email}`], err: [], exitCode: 0 } : noAccount(email);
}

async function listAdministrators(users: RoleStore): Promise<AdminOutcome> {
  const admins = await users.listByRole('admin');
  return { out: admins.length > 0 ? admins.map((user) => user.email) : ['no administrators'], err: [], exitCode: 0 };
}
