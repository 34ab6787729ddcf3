import { createHash, randomBytes } from 'node:crypto';
import axios from 'axios';

/** An RFC 7636 verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * What an operator's browser does on the emulator's consent page: load it, press Allow (or Deny),
 * and hand back where the platform redirects, without following it.
 */
export async function consentOverHttp(authorizeUrl: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const http = axios.create({ timeout: 5000, maxRedirects: 0, validateStatus: () => true });
  const page = await http.get<string>(authorizeUrl, { responseType: 'text' });
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${JSON.stringify(page.data)}`);
  const form = new URLSearchParams();
  for (const match of page.data.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1]!, match[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
  }
  form.set('decision', decision);
  const action = new URL(/<form method="post" action="([^"]+)"/.exec(page.data)![1]!, authorizeUrl);
  const answer = await http.post(action.toString(), form.toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  if (answer.status !== 303) throw new Error(`consent answered ${answer.status}`);
  return new URL(answer.headers['location'] as string);
}
