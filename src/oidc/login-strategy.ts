import type { Request } from 'express';
import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions } from 'openid-client/passport';
import type { User } from '../store/user-store';
import type { Identities, ProviderReader } from './identities';
import type { DiscoveredProvider } from './provider';

/** What a completed provider login hands the site: the account, and what its logout will need. */
export interface ProviderLogin {
  user: User;
  /** the provider's session, kept with the host session: back-channel logout names it */
  idpSid: string | undefined;
  /** sent back as `id_token_hint` when the reader logs out (RP-initiated logout) */
  idToken: string | undefined;
  /** when the reader last proved who they are at the provider (`auth_time`), ms since the epoch */
  authTime: number | undefined;
}

/** `GET /login/oidc?reauth=1`: the provider asks for the reader's credentials again, whatever its own session. */
export const REAUTH_MAX_AGE_SECONDS = 600;

/** At most this much of a provider's name is kept: the site's own limit for names (src/auth/forms.ts). */
const NAME_CHARS = 100;

/**
 * openid-client's passport Strategy, asking with `state` and `nonce` as well as PKCE S256: the
 * Strategy sends only PKCE to a provider that supports it, and the site wants all three
 * (docs/oidc-login.md#the-login). The Strategy keeps them in the session and checks each on return.
 */
class StateAndNonceStrategy extends Strategy {
  override authorizationRequestParams<TOptions extends AuthenticateOptions>(req: Request, options: TOptions): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options));
    params.set('state', client.randomState());
    params.set('nonce', client.randomNonce());
    // A step-up before an account change (src/accounts/current-password.ts): a login there, not its
    // single sign-on; with max_age openid-client also checks the ID token's auth_time.
    if (req.query['reauth'] === '1') {
      params.set('prompt', 'login');
      params.set('max_age', String(REAUTH_MAX_AGE_SECONDS));
    }
    return params;
  }
}

/** A name fit for the masthead and the platform: one line, no control characters, at most 100 characters. */
function displayName(claims: Record<string, unknown>): string {
  const candidates = [claims['name'], [claims['given_name'], claims['family_name']].filter((part) => typeof part === 'string').join(' '), claims['preferred_username'], claims['nickname']];
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const clean = candidate.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').replace(/\s+/g, ' ').trim();
    if (clean !== '') return [...clean].slice(0, NAME_CHARS).join('');
  }
  return 'Reader';
}

/** The address, only when the provider vouches for it (OpenID Connect Core §5.1 `email_verified`). */
function verifiedEmail(claims: Record<string, unknown>): string | undefined {
  const email = claims['email'];
  if (claims['email_verified'] !== true || typeof email !== 'string') return undefined;
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email) ? email.toLowerCase() : undefined;
}

/**
 * The ID token's claims (openid-client checked its signature, `iss`, `aud`, `exp` and `nonce`), with
 * the userinfo endpoint's where the ID token leaves out the name or the address.
 */
async function readerClaims(provider: DiscoveredProvider, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<Record<string, unknown>> {
  const claims: Record<string, unknown> = { ...tokens.claims() };
  const subject = claims['sub'];
  if (typeof subject !== 'string') throw new Error('the ID token has no subject');
  const incomplete = claims['name'] === undefined || claims['email'] === undefined;
  if (incomplete && provider.configuration.serverMetadata().userinfo_endpoint) {
    const userinfo: Record<string, unknown> = { ...(await client.fetchUserInfo(provider.configuration, tokens.access_token, subject)) };
    // An address and whether it was verified come from one source, never one from each.
    const addressFrom = claims['email'] !== undefined ? claims : userinfo;
    return { ...userinfo, ...claims, email: addressFrom['email'], email_verified: addressFrom['email_verified'] };
  }
  return claims;
}

/** A Strategy for one discovered provider; each login's reader becomes a host account by issuer and subject. */
export function createLoginStrategy(provider: DiscoveredProvider, options: { redirectUrl: string; scopes: string; identities: Identities }): Strategy {
  const { issuer } = provider;
  return new StateAndNonceStrategy(
    { config: provider.configuration, callbackURL: options.redirectUrl, scope: options.scopes, sessionKey: 'oidcLogin', name: 'oidc', passReqToCallback: true },
    (_req, tokens, verified) => {
      readerClaims(provider, tokens)
        .then(async (claims) => {
          const reader: ProviderReader = { issuer, subject: claims['sub'] as string, name: displayName(claims), verifiedEmail: verifiedEmail(claims) };
          const login: ProviderLogin = {
            user: await options.identities.readerFor(reader),
            idpSid: typeof claims['sid'] === 'string' ? claims['sid'] : undefined,
            idToken: tokens.id_token,
            authTime: typeof claims['auth_time'] === 'number' ? claims['auth_time'] * 1000 : undefined,
          };
          // passport's callback carries a user; the rest of the login travels with it (src/oidc/routes.ts).
          verified(null, login as unknown as Express.User);
        })
        .catch((error: unknown) => verified(error));
    },
  );
}
