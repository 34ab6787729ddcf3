import { AppError } from '../errors';

export { DatabaseUnavailableError, isDatabaseUnavailable } from 'vf-login-bridge';

/** The session store (Redis) is down, frozen or unreachable. */
export class SessionStoreUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super('SESSION_STORE_UNAVAILABLE', 'Sign-in is briefly unavailable. Please try again in a moment.', { cause });
  }
}
