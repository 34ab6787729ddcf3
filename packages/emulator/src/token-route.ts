import type { RequestHandler } from 'express';
import type { EmulatorState } from './state';
import { authorizationParam, readForm, sendError } from './wire';

const SUPPORTED_SCOPE = 'accounts';
export const BASIC_REALM = 'platform';

/**
 * `POST /oauth2/token`: the client_credentials grant of RFC 6749 §4.4, errors per §5.2.
 * The client is authenticated before anything about the request is judged, so an
 * unauthenticated caller learns nothing but 401.
 */
export function tokenHandler(deps: {
  state: EmulatorState;
  clientCredentialsMatch: (basicParam: string | null) => boolean;
  tokenTtlSeconds: number;
}): RequestHandler {
  return (req, res) => {
    if (!deps.clientCredentialsMatch(authorizationParam(req, 'Basic'))) {
      res.set('WWW-Authenticate', `Basic realm="${BASIC_REALM}", charset="UTF-8"`);
      sendError(res, 401, 'invalid_client', 'Client authentication failed');
      return;
    }
    const form = readForm(req, ['grant_type', 'scope', 'client_secret']);
    if (!form.ok) return sendError(res, 400, 'invalid_request', form.description);
    const { grant_type: grantType, scope, client_secret: clientSecret } = form.fields;
    // RFC 6749 §2.3: one authentication method per request.
    if (clientSecret !== undefined) {
      return sendError(res, 400, 'invalid_request', 'Client credentials go in the Authorization header only');
    }
    if (grantType === undefined) return sendError(res, 400, 'invalid_request', 'The parameter "grant_type" is missing');
    if (grantType !== 'client_credentials') {
      return sendError(res, 400, 'unsupported_grant_type', 'Only the client_credentials grant is supported');
    }
    // RFC 6749 §3.3: scope is a space-delimited list; this platform knows one scope.
    const scopes = (scope ?? '').split(' ').filter((part) => part !== '');
    if (scopes.length === 0 || scopes.some((part) => part !== SUPPORTED_SCOPE)) {
      return sendError(res, 400, 'invalid_scope', `The scope must be "${SUPPORTED_SCOPE}"`);
    }
    // RFC 6749 §5.1: token answers must not be cached.
    res
      .status(200)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({
        access_token: deps.state.issueToken(),
        token_type: 'bearer',
        expires_in: deps.tokenTtlSeconds,
        scope: SUPPORTED_SCOPE,
      });
  };
}
