import { loadConfig } from '../../src/config';
import { problemsOf } from '../helpers/config';

const OIDC = {
  LOGIN: 'both',
  OIDC_ISSUER: 'https://id.news.example',
  OIDC_CLIENT_ID: 'harbour-ledger',
  OIDC_CLIENT_SECRET: 'a client secret',
  OIDC_REDIRECT_URL: 'https://news.example/login/oidc/callback',
};

describe('LOGIN and the OIDC_ settings', () => {
  it('default to the site\'s own login, with no provider', () => {
    expect(loadConfig({}).login).toEqual({ mode: 'local', oidc: undefined });
  });

  it('read the provider, with the default scopes and the issuer\'s host as its name', () => {
    expect(loadConfig(OIDC).login).toEqual({
      mode: 'both',
      oidc: {
        issuer: 'https://id.news.example',
        clientId: 'harbour-ledger',
        clientSecret: 'a client secret',
        redirectUrl: 'https://news.example/login/oidc/callback',
        scopes: 'openid profile email',
        providerName: 'id.news.example',
      },
    });
    expect(loadConfig({ ...OIDC, OIDC_PROVIDER_NAME: 'Harbour ID', OIDC_SCOPES: 'openid  email' }).login.oidc).toMatchObject({ providerName: 'Harbour ID', scopes: 'openid email' });
  });

  it('say what is missing or wrong, one line per variable', () => {
    expect(problemsOf({ LOGIN: 'oidc' })).toEqual([
      'OIDC_ISSUER: required with LOGIN=oidc or LOGIN=both',
      'OIDC_REDIRECT_URL: required with LOGIN=oidc or LOGIN=both',
      'OIDC_CLIENT_ID: required with LOGIN=oidc or LOGIN=both',
      'OIDC_CLIENT_SECRET: required with LOGIN=oidc or LOGIN=both',
    ]);
    expect(problemsOf({ LOGIN: 'sso' })).toEqual(['LOGIN: must be local, oidc or both']);
    expect(problemsOf({ ...OIDC, OIDC_SCOPES: 'profile email' })).toEqual(['OIDC_SCOPES: must include openid']);
  });

  it('refuse plain http except to this machine: codes and tokens would travel in the clear', () => {
    expect(problemsOf({ ...OIDC, OIDC_ISSUER: 'http://id.news.example' })).toEqual(['OIDC_ISSUER: must be an https:// URL (http:// only for localhost or 127.0.0.1)']);
    expect(problemsOf({ ...OIDC, OIDC_REDIRECT_URL: 'not a url' })).toEqual(['OIDC_REDIRECT_URL: must be an absolute URL']);
    expect(problemsOf({ ...OIDC, OIDC_ISSUER: 'http://127.0.0.1:4444', OIDC_REDIRECT_URL: 'http://localhost:3000/cb' })).toEqual([]);
  });

  it('warn when OIDC_ settings are given but LOGIN leaves them unused', () => {
    const { LOGIN: _unused, ...rest } = OIDC;
    expect(loadConfig(rest).warnings).toContainEqual(expect.stringMatching(/^OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URL: not used with LOGIN=local/));
  });
});
