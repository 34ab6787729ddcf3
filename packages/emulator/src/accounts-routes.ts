import type { RequestHandler } from 'express';
import type { EmulatorState } from './state';
import { authorizationParam, readForm, sendError } from './wire';

const MAX_FIELD_LENGTH = 255;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

/** Refuses a missing, unknown or expired bearer token with 401 (RFC 6750 §3.1). */
export function requireBearerToken(state: EmulatorState): RequestHandler {
  return (req, res, next) => {
    const token = authorizationParam(req, 'Bearer');
    if (token !== null && state.isTokenValid(token)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="platform", error="invalid_token"');
    sendError(res, 401, 'invalid_token', 'The access token is missing, unknown or expired');
  };
}

function fieldProblem(name: string, value: string | undefined, required: boolean): string | null {
  if (value === undefined || value.trim() === '') return required ? `The parameter "${name}" is required` : null;
  if (value.length > MAX_FIELD_LENGTH) return `The parameter "${name}" is longer than ${MAX_FIELD_LENGTH} characters`;
  return null;
}

/** `POST /rest/v1/accounts/login`: creates or updates the user, opens a new session (docs/platform-protocol.md#accounts-login). */
export function loginHandler(state: EmulatorState): RequestHandler {
  return (req, res) => {
    const form = readForm(req, ['id', 'name', 'email']);
    if (!form.ok) return sendError(res, 400, 'invalid_request', form.description);
    const { id, name, email } = form.fields;
    const problem = fieldProblem('id', id, true) ?? fieldProblem('name', name, true) ?? fieldProblem('email', email, false);
    if (problem) return sendError(res, 400, 'invalid_request', problem);
    if (email !== undefined && !EMAIL_SHAPE.test(email)) {
      return sendError(res, 400, 'invalid_request', 'The parameter "email" is not an email address');
    }
    const { user, session } = state.login({ hostId: id!, name: name!, email });
    res.status(200).set('Cache-Control', 'no-store').json({ user_id: user.userId, session });
  };
}

/**
 * `POST /rest/v1/accounts/logout`: the session is dead from now on. An unknown or already
 * dead session answers 200 too, so a retried logout is safe.
 */
export function logoutHandler(state: EmulatorState): RequestHandler {
  return (req, res) => {
    const form = readForm(req, ['session']);
    if (!form.ok) return sendError(res, 400, 'invalid_request', form.description);
    const { session } = form.fields;
    if (session === undefined) return sendError(res, 400, 'invalid_request', 'The parameter "session" is required');
    state.logout(session);
    res.status(200).set('Cache-Control', 'no-store').json({ ok: true });
  };
}
