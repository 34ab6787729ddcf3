import { loadHookClientConfig } from '../config';
import { signHook } from 'vf-login-bridge';

/**
 * `npm run hook -- logout <userId>`: sends a signed logout hook to the site, as another system
 * of the host would. Reads HOOK_SECRET and SITE_URL (default http://127.0.0.1:3000).
 */
async function main(argv: string[]): Promise<number> {
  const [command, userId] = argv;
  if (command !== 'logout' || !userId) {
    process.stderr.write('Usage: npm run hook -- logout <userId>\n');
    return 64;
  }
  const config = loadHookClientConfig(process.env);
  const body = JSON.stringify({ userId });
  const res = await fetch(new URL('/hooks/logout', config.siteUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hook-Signature': signHook(config.hookSecret, Math.floor(Date.now() / 1000), body) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  process.stdout.write(`${res.status} ${await res.text()}\n`);
  return res.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
