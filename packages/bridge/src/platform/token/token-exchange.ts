import type { PlatformGuard } from '../circuit-breaker';
import { outcomeOf, type PlatformMetrics } from '../metrics';
import { createPlatformHttp, type PlatformHttp, type PlatformRequest } from '../platform-http';
import { processTokenResponse, type TokenAnswer } from '../token-reply';

/** One round trip to the token endpoint: a request from token-request.ts, its answer checked by token-reply.ts. */
export interface TokenExchange {
  send(request: PlatformRequest): Promise<TokenAnswer>;
  close(): void;
}

export interface TokenExchangeOptions {
  tokenUrl: string;
  /** The scope the grant requests: an answer that names its scopes must include it. */
  scope?: string | undefined;
  timeoutMs: number;
  metrics?: PlatformMetrics | undefined;
  breaker?: PlatformGuard | undefined;
}

/**
 * The HTTP client is made at the first request: a grant that never asks a token endpoint (a
 * personal access token) opens no sockets and needs no token URL.
 */
export function createTokenExchange(options: TokenExchangeOptions): TokenExchange {
  const { metrics } = options;
  let platform: PlatformHttp | undefined;
  return {
    async send(request) {
      platform ??= createPlatformHttp({
        baseUrl: new URL(options.tokenUrl).origin,
        timeoutMs: options.timeoutMs,
        metrics,
        breaker: options.breaker,
      });
      try {
        const answer = await platform.post('token', request, (reply) => processTokenResponse(reply, { requestedScope: options.scope }));
        metrics?.tokenFetches.inc({ outcome: 'ok' });
        return answer;
      } catch (error) {
        metrics?.tokenFetches.inc({ outcome: outcomeOf(error) });
        throw error;
      }
    },
    close() {
      platform?.close();
    },
  };
}
