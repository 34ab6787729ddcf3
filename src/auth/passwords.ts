import { hash, verify } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
  /** Spends the same work as a real verify: an unknown email must cost as much as a wrong password. */
  verifyNothing(password: string): Promise<void>;
}

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id: 19 MiB, 2 iterations, 1 lane. */
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// `Algorithm` is a const enum in the typings, which per-file compilers cannot inline.
const ARGON2ID = 2;

export function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID): PasswordHasher {
  const options = { ...params, algorithm: ARGON2ID };
  let dummyHash: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, options),
    verify: (hashed, password) => verify(hashed, password).catch(() => false),
    async verifyNothing(password) {
      dummyHash ??= hash('not a password of anyone', options);
      await verify(await dummyHash, password).catch(() => false);
    },
  };
}
