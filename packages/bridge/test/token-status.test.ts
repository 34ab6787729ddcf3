import { createTokenSource } from '../src/platform/token';
import { createMemoryTokenStore, type TokenRecord, type TokenStore } from '../src/platform/token-store';
import type { TokenSettings } from '../src/platform/token-settings';

/** No test here reaches a network: every token below comes from the store, and status() must never ask for one. */
const UNREACHABLE = 'http://127.0.0.1:9/oauth2/token';
const NOW = 1_800_000_000_000;
const clock = { now: () => NOW };

const settingsFor = (grant: TokenSettings['grant']): TokenSettings => ({
  grant,
  clientAuth: 'basic',
  tokenUrl: UNREACHABLE,
  clientId: 'site',
  clientSecret: 'secret',
  refreshTokenIn: 'body',
  ...(grant === 'authorization_code' ? { authorizeUrl: 'http://127.0.0.1:9/authorize', redirectUrl: 'http://127.0.0.1:9/callback' } : {}),
});

async function storeWith(record: TokenRecord | null): Promise<TokenStore> {
  const store = createMemoryTokenStore();
  if (record) await store.write(record);
  return store;
}

describe('the token status line is a pure read', () => {
  const kept: TokenRecord = { accessToken: 'kept-access', refreshToken: 'kept-refresh', obtainedAt: NOW - 1_000, expiresAt: NOW + 3_600_000 };

  it.each(['client_credentials', 'authorization_code'] as const)('for %s: status() twice changes neither the store, nor health(), nor its own answer', async (grant) => {
    const store = await storeWith(kept);
    const source = createTokenSource({ settings: settingsFor(grant), clock, timeoutMs: 1_000, store });
    const healthBefore = source.health();
    const first = await source.status();
    const second = await source.status();
    expect(second).toEqual(first);
    expect(source.health()).toBe(healthBefore);
    expect(await store.read()).toEqual(kept);
    expect(JSON.stringify(first)).not.toContain('kept-access');
    source.close();
  });

  it('an authorization_code grant nobody has connected says so, and stays so after asking', async () => {
    const store = await storeWith(null);
    const source = createTokenSource({ settings: settingsFor('authorization_code'), clock, timeoutMs: 1_000, store });
    expect(await source.status()).toMatchObject({ grant: 'authorization_code', connected: false });
    expect(await source.status()).toMatchObject({ connected: false });
    expect(await store.read()).toBeNull();
    source.close();
  });
});
