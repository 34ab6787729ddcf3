import type { PlatformGuard } from '../circuit-breaker';
import { outcomeOf, type PlatformMetrics } from '../metrics';
import { createPlatformHttp, type PlatformHttp, type PlatformRequest } from '../platform-http';
import { processTokenResponse, type TokenAnswer } from '../token-reply';

/** One round trip to the token endpoint: a request from token-request.ts, its answer checked by token-reply.ts. */
export interface TokenExchange {
  /** `requestedScope`: what the request asked for, so that a narrower grant is reported. */
  send(request: PlatformRequest, requestedScope?: string): Promise<TokenAnswer>;
  close(): void;
}

export interface TokenExchangeOptions {
  tokenUrl: string;
  /** Told of every answer that grants less than its request asked (RFC 6749 §3.3). */
  onScopeNotGranted?: ((answer: TokenAnswer, requestedScope: string) => void) | undefined;
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
    async send(request, requestedScope) {
      platform ??= createPlatformHttp({
        baseUrl: new URL(options.tokenUrl).origin,
        timeoutMs: options.timeoutMs,
        metrics,
        breaker: options.breaker,
      });
      try {
        const answer = await platform.post('token', request, (reply) => processTokenResponse(reply, { requestedScope }));
        metrics?.tokenFetches.inc({ outcome: 'ok' });
        if (answer.scopeNotGranted.length > 0) options.onScopeNotGranted?.(answer, requestedScope ?? '');
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
