import { z } from 'zod';
import { RequestError } from '../errors';

// Control characters have no place in a name or an address; they are how log and header injection starts.
const CONTROL = /[\u0000-\u001f\u007f]/;

const email = z
  .string({ error: 'Enter your email address.' })
  .trim()
  .min(1, 'Enter your email address.')
  .max(254, 'That email address is too long.')
  .pipe(z.email({ error: 'Enter a valid email address.' }))
  // RFC 2606's .invalid receives no mail, and the site's readers of an OpenID Provider may hold such an address (src/oidc/identities.ts).
  .refine((value) => !/\.invalid$/i.test(value), 'Enter an address that can receive mail.');

const name = z
  .string({ error: 'Enter your name.' })
  .trim()
  .min(1, 'Enter your name.')
  .max(100, 'Names are at most 100 characters.')
  .refine((v) => !CONTROL.test(v), 'Names cannot contain control characters.');

// Length and strength are the password policy's (src/auth/password-policy.ts), which says why.
// This bound only keeps a megabyte "password" from reaching the hash or the strength check.
const newPassword = z.string({ error: 'Choose a password.' }).min(1, 'Choose a password.').max(1024, 'Passwords are at most 256 characters.');

const password = z.string({ error: 'Enter your password.' }).min(1, 'Enter your password.').max(256, 'Wrong email or password.');

const returnTo = z.string().max(2048).optional().catch(undefined);

export const registerForm = z.object({ email, name, password: newPassword, returnTo });
export const loginForm = z.object({ email: z.string({ error: 'Enter your email address.' }).trim().min(1, 'Enter your email address.').max(254, 'Wrong email or password.'), password, returnTo });
const currentPassword = z.string({ error: 'Enter your current password.' }).max(256, 'Your current password is not right.');

export const accountForm = z.object({ email, name, currentPassword: currentPassword.optional() });
// The current password may be left out only by a reader who has none here (src/accounts/current-password.ts says which).
export const passwordForm = z.object({ currentPassword: currentPassword.optional(), newPassword });

export const forgotPasswordForm = z.object({ email });
export const resetPasswordForm = z.object({ newPassword });

// A one-time link's token, from a form field or the link's query. Anything malformed reads as no
// token: the page then says the link is not valid, never a validation message about its shape.
const linkToken = z.string().trim().max(128).catch('');
export const linkTokenForm = z.object({ token: linkToken });

export type RegisterForm = z.infer<typeof registerForm>;
export type LoginForm = z.infer<typeof loginForm>;
export type AccountForm = z.infer<typeof accountForm>;
export type PasswordForm = z.infer<typeof passwordForm>;

/** Parses a request body; the first problem becomes a plain 400 message. */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    // An issue at the top is the body itself (an array, a number): zod's wording is for developers.
    const message = issue && issue.path.length > 0 ? issue.message : 'Send the form as fields, not as a list or a single value.';
    throw new RequestError('VALIDATION_FAILED', message);
  }
  return result.data;
}
