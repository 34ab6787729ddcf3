import type { Request, RequestHandler } from 'express';
import type { GrantState } from './grant-state';
import type { EmulatedGrant, TokenDialect } from './profiles';
import type { EmulatorState } from './state';
import { authorizationParam, rawBodyOf, sendError } from './wire';

const FIELDS = ['grant_type', 'client_id', 'client_secret', 'scope', 'username', 'password', 'code', 'redirect_uri', 'code_verifier', 'refresh_token'];

type Fields = Record<string, string | undefined>;

/** The body as the dialect sends it: a form (seeds 000, 001) or one flat JSON object of strings (seed 002). */
function readBody(req: Request, dialect: TokenDialect): { ok: true; fields: Fields } | { ok: false; description: string } {
  const fields: Fields = {};
  if (dialect.clientAuth === 'json') {
    if (!req.is('application/json')) return { ok: false, description: 'The body must be application/json' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBodyOf(req));
    } catch {
      return { ok: false, description: 'The body is not JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, description: 'The body must be a JSON object' };
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') return { ok: false, description: `The parameter "${name}" must be a string` };
      if (FIELDS.includes(name)) fields[name] = value === '' ? undefined : value;
    }
    return { ok: true, fields };
  }
  if (!req.is('application/x-www-form-urlencoded')) return { ok: false, description: 'The body must be application/x-www-form-urlencoded' };
  const params = new URLSearchParams(rawBodyOf(req));
  for (const name of FIELDS) {
    const values = params.getAll(name);
    if (values.length > 1) return { ok: false, description: `The parameter "${name}" is repeated` };
    fields[name] = values[0] === '' ? undefined : values[0];
  }
  return { ok: true, fields };
}

export interface DialectTokenDeps {
  dialect: TokenDialect;
  state: EmulatorState;
  grants: GrantState;
  /** Checks Basic credentials as the profile decodes them (src/client-credentials.ts). */
  basicMatches: (basicParam: string | null) => boolean;
  clientId: string;
  clientSecret: string;
  user: { username: string; password: string };
}

/**
 * The token endpoint of one dialect, strictly: a request shaped for another dialect (Basic where
 * the body is expected, a form where JSON is, the refresh token in the wrong place) is refused,
 * as the platform that dialect comes from would refuse it.
 */
export function dialectTokenHandler(deps: DialectTokenDeps): RequestHandler {
  const { dialect, state, grants } = deps;
  return (req, res) => {
    if (dialect.requireAcceptJson && !/application\/json/.test(req.get('accept') ?? '')) {
      return sendError(res, 406, 'invalid_request', 'Send Accept: application/json');
    }
    const body = readBody(req, dialect);
    if (!body.ok) return sendError(res, 400, 'invalid_request', body.description);
    const f = body.fields;

    // Client authentication, one method per request (RFC 6749 §2.3).
    if (dialect.clientAuth === 'basic') {
      if (!deps.basicMatches(authorizationParam(req, 'Basic'))) {
        res.set('WWW-Authenticate', 'Basic realm="platform", charset="UTF-8"');
        return sendError(res, 401, 'invalid_client', 'Client authentication failed');
      }
      if (f['client_secret'] !== undefined) return sendError(res, 400, 'invalid_request', 'Client credentials go in the Authorization header only');
    } else {
      if (req.headers.authorization !== undefined) {
        return sendError(res, 401, 'invalid_client', `Client credentials go in the ${dialect.clientAuth === 'json' ? 'JSON' : 'form'} body, not a header`);
      }
      if (f['client_id'] !== deps.clientId || f['client_secret'] !== deps.clientSecret) {
        return sendError(res, 401, 'invalid_client', 'Client authentication failed');
      }
    }

    const grantType = f['grant_type'];
    if (grantType === undefined) return sendError(res, 400, 'invalid_request', 'The parameter "grant_type" is missing');
    if (!(dialect.grants as readonly string[]).includes(grantType)) {
      return sendError(res, 400, 'unsupported_grant_type', `This platform supports ${dialect.grants.join(', ')}`);
    }
    const grant = grantType as EmulatedGrant;
    const queryRefresh = new URL(req.originalUrl, 'http://emulator').searchParams.get('refresh_token');
    if (grant !== 'refresh_token' && queryRefresh !== null) return sendError(res, 400, 'invalid_request', 'Unexpected query parameter');

    switch (grant) {
      case 'client_credentials': {
        if (f['scope'] !== dialect.scope) return sendError(res, 400, 'invalid_scope', `The scope must be "${dialect.scope}"`);
        break;
      }
      case 'password': {
        if (f['username'] === undefined || f['password'] === undefined) return sendError(res, 400, 'invalid_request', 'username and password are required');
        if (f['username'] !== deps.user.username || f['password'] !== deps.user.password) {
          return sendError(res, 400, 'invalid_grant', 'Invalid credentials given');
        }
        break;
      }
      case 'authorization_code': {
        if (f['code'] === undefined) return sendError(res, 400, 'invalid_request', 'The parameter "code" is missing');
        if (dialect.scope !== null && f['scope'] !== undefined && f['scope'] !== dialect.scope) {
          return sendError(res, 400, 'invalid_scope', `The scope must be "${dialect.scope}"`);
        }
        const problem = grants.redeemCode(f['code'], f['redirect_uri'], f['code_verifier']);
        if (problem) return sendError(res, 400, 'invalid_grant', problem);
        break;
      }
      case 'refresh_token': {
        // Seed 001 sends it as ?refresh_token=; the others in the body. Anywhere else is refused.
        const inBody = f['refresh_token'];
        if (dialect.refreshTokenIn === 'query' && inBody !== undefined) return sendError(res, 400, 'invalid_request', 'The refresh token goes in the query string');
        if (dialect.refreshTokenIn === 'body' && queryRefresh !== null) return sendError(res, 400, 'invalid_request', 'The refresh token goes in the body');
        const token = dialect.refreshTokenIn === 'query' ? queryRefresh : inBody;
        if (!token) return sendError(res, 400, 'invalid_request', 'The parameter "refresh_token" is missing');
        if (!grants.useRefreshToken(token)) return sendError(res, 400, 'invalid_grant', 'The refresh token is invalid, used or revoked');
        break;
      }
    }
    grants.countGrant(grant);
    const answer: Record<string, string | number> = {
      access_token: state.issueToken(),
      token_type: dialect.tokenType,
      expires_in: state.tokenTtlSeconds,
    };
    if (dialect.issuesRefreshTokens) answer['refresh_token'] = grants.issueRefreshToken();
    if (dialect.answerScope !== null) answer['scope'] = dialect.answerScope;
    Object.assign(answer, dialect.extraFields);
    res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(answer);
  };
}
