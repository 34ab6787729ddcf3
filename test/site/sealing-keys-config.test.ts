import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { problemsOf } from '../helpers/config';

const NEW = randomBytes(32);
const OLD = randomBytes(32);
/** The password grant keeps a refresh token, so it needs the sealing keys. */
const PASSWORD_GRANT = { VF_TOKEN_GRANT: 'password', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u', VF_PASSWORD: 'p' };

describe('TOKEN_ENCRYPTION_KEYS at start-up', () => {
  it('takes a comma-separated list, newest first, in hex or base64, spaces around commas allowed', () => {
    const config = loadConfig({ ...PASSWORD_GRANT, TOKEN_ENCRYPTION_KEYS: `${NEW.toString('base64')} , ${OLD.toString('hex')}` });
    expect(config.tokens.encryptionKeys).toEqual([NEW, OLD]);
  });

  it('still takes TOKEN_ENCRYPTION_KEY, as a list of one, and both names when they hold the same value', () => {
    expect(loadConfig({ ...PASSWORD_GRANT, TOKEN_ENCRYPTION_KEY: OLD.toString('base64') }).tokens.encryptionKeys).toEqual([OLD]);
    const same = NEW.toString('hex');
    expect(loadConfig({ ...PASSWORD_GRANT, TOKEN_ENCRYPTION_KEY: same, TOKEN_ENCRYPTION_KEYS: same }).tokens.encryptionKeys).toEqual([NEW]);
  });

  it.each([
    ['both names with different values', { TOKEN_ENCRYPTION_KEYS: `${NEW.toString('hex')},${OLD.toString('hex')}`, TOKEN_ENCRYPTION_KEY: OLD.toString('hex') }, /^TOKEN_ENCRYPTION_KEYS: TOKEN_ENCRYPTION_KEY is set too/],
    ['a short second key', { TOKEN_ENCRYPTION_KEYS: `${NEW.toString('hex')},${OLD.toString('hex').slice(0, 40)}` }, /^TOKEN_ENCRYPTION_KEYS: key 2 of 2 must be 32 random bytes/],
    ['a patterned first key', { TOKEN_ENCRYPTION_KEYS: `${'ab'.repeat(32)},${OLD.toString('hex')}` }, /^TOKEN_ENCRYPTION_KEYS: key 1 of 2 is too weak/],
    ['one key twice (hex, then base64)', { TOKEN_ENCRYPTION_KEYS: `${NEW.toString('hex')},${OLD.toString('hex')},${NEW.toString('base64')}` }, /^TOKEN_ENCRYPTION_KEYS: key 3 of 3 is key 1 again/],
    ['an empty place', { TOKEN_ENCRYPTION_KEYS: `${NEW.toString('hex')},` }, /^TOKEN_ENCRYPTION_KEYS: key 2 of 2 is empty/],
    ['a list under the older name', { TOKEN_ENCRYPTION_KEY: `${NEW.toString('hex')},${OLD.toString('hex')}` }, /^TOKEN_ENCRYPTION_KEY: holds one key; list several, newest first, in TOKEN_ENCRYPTION_KEYS/],
    ['a bad key under the older name', { TOKEN_ENCRYPTION_KEY: 'short' }, /^TOKEN_ENCRYPTION_KEY: must be 32 random bytes/],
    ['no key with the password grant', {}, /^TOKEN_ENCRYPTION_KEYS: required with VF_TOKEN_GRANT=password/],
  ])('%s stops start-up with one line naming the variable', (_case, keys, line) => {
    const problems = problemsOf({ ...PASSWORD_GRANT, ...keys });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(line);
  });

  it('names every bad key by its position in one line, and prints none of them', () => {
    const short = OLD.toString('hex').slice(0, 40);
    const problems = problemsOf({ ...PASSWORD_GRANT, TOKEN_ENCRYPTION_KEYS: `${short},${NEW.toString('base64')},${NEW.toString('hex')}` });
    expect(problems).toEqual([expect.stringMatching(/^TOKEN_ENCRYPTION_KEYS: key 1 of 3 must be .*; key 3 of 3 is key 2 again: list each key once$/)]);
    for (const text of [short, NEW.toString('base64'), NEW.toString('hex')]) expect(problems[0]).not.toContain(text);
  });
});
