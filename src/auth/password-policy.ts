import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/**
 * ASVS 2.1: at least 12 characters (2.1.1), up to 256 allowed (2.1.2), any character (2.1.4),
 * no composition rules (2.1.9), and checked offline against lists of common and breached passwords
 * (2.1.7) with zxcvbn's estimate of how many guesses it would take. The same library, with the same
 * lists, gives the strength hint on the forms (public/password-strength.js).
 */
export const PASSWORD_MIN_CHARACTERS = 12;
export const PASSWORD_MAX_CHARACTERS = 256;
/** zxcvbn's score 3: about 10^8 guesses or more, out of reach of online guessing and slow for an offline hash attack. */
export const PASSWORD_MIN_SCORE = 3;
/** Matching cost grows with length; past this every password is long enough, so only a prefix is scored. */
const SCORED_CHARACTERS = 64;

/** zxcvbn's warning codes, said plainly: why the password is refused. */
const WARNINGS: Record<string, string> = {
  straightRow: 'it is a straight row of keys',
  keyPattern: 'it is a short keyboard pattern',
  simpleRepeat: 'it repeats one character',
  extendedRepeat: 'it repeats a short pattern',
  sequences: 'it is a common sequence like abc or 1234',
  recentYears: 'it is built on a recent year',
  dates: 'it is built on a date',
  topTen: 'it is one of the ten most used passwords',
  topHundred: 'it is one of the hundred most used passwords',
  common: 'it is on lists of commonly used and breached passwords',
  similarToCommon: 'it is close to a commonly used password',
  wordByItself: 'a single word is easy to guess',
  namesByThemselves: 'names on their own are easy to guess',
  commonNames: 'common names are easy to guess',
  userInputs: 'it contains your name or email address',
  pwned: 'it has appeared in a data breach',
};

export interface PasswordPolicy {
  /** Why this password is refused, as a sentence for the form; undefined when it is acceptable. */
  problemWith(password: string, userInputs?: string[]): string | undefined;
}

export function createPasswordPolicy(): PasswordPolicy {
  let zxcvbn: ZxcvbnFactory | undefined;
  // Built on first use: the dictionaries take a few tens of milliseconds to rank.
  const estimate = (password: string, inputs: string[]): ZxcvbnResult => {
    zxcvbn ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, useLevenshteinDistance: false });
    return zxcvbn.check(password.slice(0, SCORED_CHARACTERS), inputs);
  };

  return {
    problemWith(password, userInputs = []) {
      const characters = [...password].length;
      if (characters < PASSWORD_MIN_CHARACTERS) return `Passwords are at least ${PASSWORD_MIN_CHARACTERS} characters; a few unrelated words make a good one.`;
      if (characters > PASSWORD_MAX_CHARACTERS) return `Passwords are at most ${PASSWORD_MAX_CHARACTERS} characters.`;
      // The parts of an email address are guesses an attacker would try first.
      const inputs = userInputs.flatMap((input) => [input, input.split('@')[0]!, ...input.split(/[@.\s_+-]+/)]).filter((input) => input.length >= 3);
      const result = estimate(password, inputs);
      // Context-specific words: mostly the reader's own name or address is refused however it scores.
      const fromInputs = result.sequence.reduce((sum, match) => sum + ('dictionaryName' in match && match.dictionaryName === 'userInputs' ? match.token.length : 0), 0);
      if (fromInputs * 2 >= Math.min(characters, SCORED_CHARACTERS)) return `That password is too easy to guess: ${WARNINGS.userInputs}. Try a few unrelated words.`;
      if (result.score >= PASSWORD_MIN_SCORE) return undefined;
      const why = (result.feedback.warning && WARNINGS[result.feedback.warning]) ?? 'it would be guessed too quickly';
      return `That password is too easy to guess: ${why}. Try a few unrelated words.`;
    },
  };
}
