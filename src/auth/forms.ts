import { z } from 'zod';
import { RequestError } from '../errors';

// Control characters have no place in a name or an address; they are how log and header injection starts.
const CONTROL = /[\u0000-\u001f\u007f]/;

const email = z
  .string({ error: 'Enter your email address.' })
  .trim()
  .min(1, 'Enter your email address.')
  .max(254, 'That email address is too long.')
  .pipe(z.email({ error: 'Enter a valid email address.' }));

const name = z
  .string({ error: 'Enter your name.' })
  .trim()
  .min(1, 'Enter your name.')
  .max(100, 'Names are at most 100 characters.')
  .refine((v) => !CONTROL.test(v), 'Names cannot contain control characters.');

// An upper bound keeps a megabyte "password" from becoming a hashing DoS.
const newPassword = z
  .string({ error: 'Choose a password.' })
  .min(10, 'Passwords are at least 10 characters.')
  .max(256, 'Passwords are at most 256 characters.');

const password = z.string({ error: 'Enter your password.' }).min(1, 'Enter your password.').max(256, 'Wrong email or password.');

const returnTo = z.string().max(2048).optional().catch(undefined);

export const registerForm = z.object({ email, name, password: newPassword, returnTo });
export const loginForm = z.object({ email: z.string({ error: 'Enter your email address.' }).trim().min(1, 'Enter your email address.').max(254, 'Wrong email or password.'), password, returnTo });
export const accountForm = z.object({ email, name });

export type RegisterForm = z.infer<typeof registerForm>;
export type LoginForm = z.infer<typeof loginForm>;
export type AccountForm = z.infer<typeof accountForm>;

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
