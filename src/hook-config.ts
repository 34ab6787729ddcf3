import { webhookSecretProblem } from 'vf-login-bridge';

const ORDINALS = ['1st', '2nd', '3rd'];
const ordinal = (index: number) => ORDINALS[index] ?? `${index + 1}th`;

/**
 * HOOK_SECRETS: one or more Standard Webhooks secrets (`whsec_...`), separated by commas or spaces,
 * every one accepted so that a sender can move to a new one first (docs/webhooks.md#rotation).
 * Each problem is one line naming HOOK_SECRETS and which secret, never its value.
 */
export function readHookSecrets(value: string | undefined): { secrets: string[]; problems: string[] } {
  const secrets = (value ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  const problems = secrets.flatMap((secret, index) => {
    const problem = webhookSecretProblem(secret);
    return problem ? [`HOOK_SECRETS: the ${ordinal(index)} secret ${problem}`] : [];
  });
  return { secrets, problems };
}
