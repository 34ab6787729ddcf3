import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { problemsOf } from '../helpers/config';

const secret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('HOOK_SECRETS', () => {
  it('is unset by default: Standard Webhooks are refused', () => {
    expect(loadConfig({}).hookSecrets).toEqual([]);
  });

  it.each([
    ['commas', ','],
    ['spaces', ' '],
    ['commas and spaces', ' , '],
    ['new lines', '\n'],
  ])('takes several secrets separated by %s, every one kept in order', (_label, separator) => {
    const secrets = [secret(), secret(24), secret(64)];
    expect(loadConfig({ HOOK_SECRETS: secrets.join(separator) }).hookSecrets).toEqual(secrets);
  });

  it.each([
    ['no whsec_ prefix', randomBytes(32).toString('base64'), 'must start with whsec_'],
    ['a key of 16 bytes', secret(16), 'must hold 24 to 64 bytes after whsec_ (it holds 16)'],
    ['a key of 65 bytes', secret(65), 'must hold 24 to 64 bytes after whsec_ (it holds 65)'],
    ['base64url instead of base64', `whsec_${'-_'.repeat(22)}`, 'must be whsec_ followed by standard base64 (with its = padding)'],
    ['base64 without its padding', secret(31).replace(/=+$/, ''), 'must be whsec_ followed by standard base64 (with its = padding)'],
  ])('refuses %s at start-up with one line that names the setting and not the secret', (_label, bad, reason) => {
    const problems = problemsOf({ HOOK_SECRETS: `${secret()},${bad}` });
    expect(problems).toEqual([`HOOK_SECRETS: the 2nd secret ${reason}`]);
    expect(problems.join('\n')).not.toContain(bad);
  });
});
