import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from 'vf-login-bridge';
import { parseAdminCommand } from '../../src/admin/commands';
import { createUserStore, type UserStore } from '../../src/store/user-store';
import { openDatabase, type Database } from '../../src/store/database';
import { createTestStores, type TestStores } from '../helpers/backend';
import { makeTempDir } from '../helpers/temp-dir';
import { runToExit } from '../helpers/run-to-exit';

const CLI = path.join(__dirname, '..', '..', 'src', 'admin', 'cli.ts');

/** `npm run admin -- ...args` from source, in `cwd`, with only the environment given. */
const runAdmin = (args: string[], env: Record<string, string>, cwd: string) => runToExit(CLI, args, env, cwd);

describe('the admin command line: arguments', () => {
  it.each([
    [['list'], { action: 'list' }],
    [['grant', 'ops@news.example'], { action: 'grant', email: 'ops@news.example' }],
    [['revoke', ' Ops@News.Example '], { action: 'revoke', email: 'Ops@News.Example' }],
  ])('%j is a command', (argv, command) => {
    expect(parseAdminCommand(argv)).toEqual(command);
  });

  it.each([[[]], [['grant']], [['revoke']], [['list', 'ops@news.example']], [['grant', 'a@b', 'c@d']], [['promote', 'ops@news.example']], [['grant', 'not-an-address']], [['grant', '--help']], [['GRANT', 'a@b']]])(
    '%j is not',
    (argv) => {
      expect(parseAdminCommand(argv)).toBeUndefined();
    },
  );
});

describe("npm run admin, as a child process, on the run's backend", () => {
  const temp = makeTempDir('vf-admin-cli-');
  let stores: TestStores;
  let database: Database;
  let users: UserStore;
  const run = (...args: string[]) => runAdmin(args, { DATABASE_URL: stores.databaseUrl }, temp.dir);
  const roleOf = async (email: string) => (await users.findByEmail(email))?.role;

  beforeAll(async () => {
    stores = await createTestStores();
    database = await openDatabase(stores.databaseUrl);
    users = createUserStore(database.db, systemClock);
    const verified = await users.create({ email: 'verified@news.example', name: 'Verified', passwordHash: 'x' });
    await users.markVerified(verified.id, verified.email);
    await users.create({ email: 'unverified@news.example', name: 'Unverified', passwordHash: 'x' });
  });

  afterAll(async () => {
    await database?.close();
    await stores?.drop();
    temp.remove();
  });

  it('grant makes the account an administrator, list names it, revoke takes the role away', async () => {
    expect(await run('list')).toEqual({ code: 0, stdout: 'no administrators\n', stderr: '' });
    expect(await run('grant', 'Verified@News.Example')).toEqual({ code: 0, stdout: 'granted: verified@news.example\n', stderr: '' });
    expect(await roleOf('verified@news.example')).toBe('admin');
    expect(await run('list')).toEqual({ code: 0, stdout: 'verified@news.example\n', stderr: '' });

    expect(await run('revoke', 'verified@news.example')).toEqual({ code: 0, stdout: 'revoked: verified@news.example\n', stderr: '' });
    expect(await roleOf('verified@news.example')).toBe('reader');
    expect(await run('list')).toEqual({ code: 0, stdout: 'no administrators\n', stderr: '' });
  });

  it('granting an unverified address is allowed, with a note saying so', async () => {
    const granted = await run('grant', 'unverified@news.example');
    expect(granted).toEqual({ code: 0, stdout: 'granted: unverified@news.example\n', stderr: expect.stringMatching(/^note: unverified@news\.example is not verified\b[^\n]*\n$/) });
    expect(await roleOf('unverified@news.example')).toBe('admin');
    await users.setRole('unverified@news.example', 'reader');
  });

  it('an email no account has: exit 1, nothing changed', async () => {
    expect(await run('grant', 'nobody@news.example')).toEqual({ code: 1, stdout: '', stderr: 'no account with that email: nobody@news.example\n' });
    expect(await run('revoke', 'nobody@news.example')).toEqual({ code: 1, stdout: '', stderr: 'no account with that email: nobody@news.example\n' });
    expect((await users.listByRole('admin')).map((user) => user.email)).toEqual([]);
  });

  it('bad arguments: the usage line and exit 64, before any configuration or database is read', async () => {
    // A database that cannot be opened: a usage error must not depend on it.
    const env = { DATABASE_URL: `sqlite:${path.join(temp.dir, 'no-such-folder', 'site.db')}` };
    for (const args of [[], ['grant'], ['promote', 'verified@news.example'], ['list', 'extra']]) {
      expect(await runAdmin(args, env, temp.dir)).toEqual({ code: 64, stdout: '', stderr: 'Usage: npm run admin -- grant EMAIL | revoke EMAIL | list\n' });
    }
    expect(await roleOf('verified@news.example')).toBe('reader');
  });

  it('reads DATABASE_URL from .env in the working folder, as the site does', async () => {
    const folder = path.join(temp.dir, 'with-env');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, '.env'), `DATABASE_URL=${stores.databaseUrl}\n`);
    expect(await runAdmin(['grant', 'verified@news.example'], {}, folder)).toEqual({ code: 0, stdout: 'granted: verified@news.example\n', stderr: '' });
    expect(await roleOf('verified@news.example')).toBe('admin');
    await users.setRole('verified@news.example', 'reader');
  });

  it('a database it cannot open: one line naming DATABASE_URL, exit 1', async () => {
    const run = await runAdmin(['list'], { DATABASE_URL: `sqlite:${path.join(temp.dir, 'no-such-folder', 'site.db')}` }, temp.dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^DATABASE_URL: [^\n]*no-such-folder[^\n]*\n$/);
  });
});
