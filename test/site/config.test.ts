import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { problemsOf } from '../helpers/config';
import { fromSource } from '../helpers/ts-source';

const PRODUCTION_MAIL = { SMTP_URL: 'smtp://mail.news.example:587', MAIL_FROM: 'news@news.example', PUBLIC_URL: 'https://news.example' };

describe('configuration', () => {
  it('defaults to the bundled emulator and SQLite with no settings at all', () => {
    const config = loadConfig({});
    expect(config.platform.mode).toBe('emulator');
    expect(config.databaseUrl).toBe('sqlite:./data/site.db');
    expect(config.sessionStore).toBe('sqlite');
    expect(config.port).toBe(3000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ VF_SITE_ID: 'site' }, 'VF_API_KEY'],
    [{ VF_API_KEY: 'key' }, 'VF_SITE_ID'],
    [{ VF_SITE_ID: 's', VF_API_KEY: 'k', VF_API_URL: 'not a url' }, 'VF_API_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ SESSION_STORE: 'redis' }, 'REDIS_URL'],
    [{ SESSION_STORE: 'memcached' }, 'SESSION_STORE'],
    [{ NODE_ENV: 'production', VF_EMULATOR: 'true', ...PRODUCTION_MAIL }, 'SESSION_SECRET'],
    [{ NODE_ENV: 'production', VF_EMULATOR: 'true', SESSION_SECRET: 's'.repeat(40), MAIL_FROM: 'news@news.example', PUBLIC_URL: 'https://news.example' }, 'SMTP_URL'],
    [{ NODE_ENV: 'production', VF_EMULATOR: 'true', SESSION_SECRET: 's'.repeat(40), SMTP_URL: 'smtp://mail.news.example', PUBLIC_URL: 'https://news.example' }, 'MAIL_FROM'],
    [{ NODE_ENV: 'production', VF_EMULATOR: 'true', SESSION_SECRET: 's'.repeat(40), SMTP_URL: 'smtp://mail.news.example', MAIL_FROM: 'news@news.example' }, 'PUBLIC_URL'],
    [{ SMTP_URL: 'http://mail.news.example' }, 'SMTP_URL'],
    [{ PUBLIC_URL: 'news.example' }, 'PUBLIC_URL'],
    [{ MAIL_FROM: 'a@b\nBcc: c@d' }, 'MAIL_FROM'],
    [{ HOOK_SECRET: 'short' }, 'HOOK_SECRET'],
  ])('%j is refused with a line naming %s', (env, variable) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it('reports every problem at once, field checks and checks across fields alike, one line per variable', () => {
    const problems = problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', SESSION_STORE: 'redis', VF_SITE_ID: 'acme', HOOK_SECRET: 'short', NODE_ENV: 'production' });
    expect(problems.map((line) => line.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'HOOK_SECRET', 'MAIL_FROM', 'PORT', 'PUBLIC_URL', 'REDIS_URL', 'SESSION_SECRET', 'SMTP_URL', 'VF_API_KEY']);
  });

  it('mail: the development inbox outside production, SMTP and the public URL as configured (links never from a Host header)', () => {
    expect(loadConfig({}).mail).toEqual({ smtpUrl: undefined, from: expect.stringContaining('@'), publicUrl: undefined });
    expect(loadConfig({ SMTP_URL: 'smtps://u:p@mail.news.example:465', PUBLIC_URL: 'https://news.example/', MAIL_FROM: 'News <news@news.example>' }).mail).toEqual({
      smtpUrl: 'smtps://u:p@mail.news.example:465',
      from: 'News <news@news.example>',
      publicUrl: 'https://news.example',
    });
  });

  it('uses the real platform when credentials are set', () => {
    const config = loadConfig({ VF_SITE_ID: 'site', VF_API_KEY: 'key' });
    expect(config.platform).toMatchObject({ mode: 'remote', apiUrl: 'https://api.viafoura.co', siteId: 'site' });
  });

  it('stops the server at start-up with one clear line and no stack trace', () => {
    const server = path.join(__dirname, '..', '..', 'src', 'server.ts');
    const run = spawnSync(process.execPath, fromSource(server), {
      env: { PATH: process.env.PATH, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(78);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Configuration error: PORT: /)]);
  });
});
