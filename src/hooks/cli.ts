import { randomUUID } from 'node:crypto';
import { signHook, standardWebhookHeaders } from 'vf-login-bridge';
import { ConfigError, loadHookClientConfig } from '../config';

/**
 * `npm run hook -- logout <userId>`: sends a signed logout hook to the site, as another system
 * of the host would: a Standard Webhook signed with the first of HOOK_SECRETS, or, with none set,
 * `X-Hook-Signature` with HOOK_SECRET (docs/webhooks.md). SITE_URL defaults to http://127.0.0.1:3000.
 */
async function main(argv: string[]): Promise<number> {
  const [command, userId] = argv;
  if (command !== 'logout' || !userId) {
    process.stderr.write('Usage: npm run hook -- logout <userId>\n');
    return 64;
  }
  const config = loadHookClientConfig(process.env);
  const body = JSON.stringify({ userId });
  const now = Math.floor(Date.now() / 1000);
  const signature =
    'webhookSecret' in config.sign
      ? standardWebhookHeaders(config.sign.webhookSecret, `msg_${randomUUID().replaceAll('-', '')}`, now, body)
      : { 'X-Hook-Signature': signHook(config.sign.hookSecret, now, body) };
  const res = await fetch(new URL('/hooks/logout', config.siteUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...signature },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  process.stdout.write(`${res.status} ${await res.text()}\n`);
  return res.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`Configuration error: ${problem}\n`);
      process.exit(78); // EX_CONFIG
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
