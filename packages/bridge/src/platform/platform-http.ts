import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import axios, { AxiosError } from 'axios';
import { PlatformError } from '../errors';
import { noGuard, type PlatformGuard } from './circuit-breaker';
import { outcomeOf, type PlatformEndpoint, type PlatformMetrics } from './metrics';

/** What came back from the platform, before the endpoint's own rules judge it. */
export interface PlatformReply {
  status: number;
  body: string;
}

export interface PlatformHttp {
  /**
   * One form POST. Transport failures and 5xx are thrown here (they are what the breaker counts);
   * any other reply goes to `interpret`, which validates it or throws the endpoint's own code.
   */
  postForm<T>(
    endpoint: PlatformEndpoint,
    path: string,
    form: URLSearchParams | string,
    authorization: string,
    interpret: (reply: PlatformReply) => T,
  ): Promise<T>;
  /**
   * One POST of any body: the token endpoint of another dialect may want JSON, an absolute URL
   * on another host, a query string or no Authorization header at all.
   */
  post<T>(endpoint: PlatformEndpoint, request: PlatformRequest, interpret: (reply: PlatformReply) => T): Promise<T>;
  close(): void;
}

export interface PlatformRequest {
  /** A path under the base URL, or an absolute http(s) URL. */
  url: string;
  body: string;
  contentType: 'application/x-www-form-urlencoded' | 'application/json';
  authorization?: string | undefined;
}

export interface PlatformHttpOptions {
  baseUrl: string;
  timeoutMs: number;
  metrics?: PlatformMetrics | undefined;
  breaker?: PlatformGuard | undefined;
}

/** The platform's answers are small JSON objects; a bigger body is not one of them. */
const MAX_REPLY_BYTES = 64 * 1024;
/** Bounds the sockets a burst of logins opens to the platform; the rest wait their turn. */
const MAX_SOCKETS = 64;
/**
 * An idle kept-alive socket is closed by us before the server closes it: below the 5 s that
 * Node's and many servers' keep-alive lasts. Node also honours a shorter `Keep-Alive: timeout=`
 * hint from the server, but only when the agent has a timeout of its own.
 */
const IDLE_SOCKET_MS = 4_000;

export function checkBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string') throw new TypeError('baseUrl must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError('baseUrl must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('baseUrl must be an http(s) URL');
  return baseUrl.replace(/\/+$/, '');
}

export function checkTimeout(timeoutMs: unknown): number {
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('timeoutMs must be a positive number');
  }
  return timeoutMs;
}

/**
 * An axios instance of our own (never axios's global defaults): a timeout on every call, no
 * redirects followed, every status handed back so that we map it ourselves.
 */
export function createPlatformHttp(options: PlatformHttpOptions): PlatformHttp {
  const baseURL = checkBaseUrl(options.baseUrl);
  const timeoutMs = checkTimeout(options.timeoutMs);
  const guard = options.breaker ?? noGuard;
  const metrics = options.metrics;
  const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const client = axios.create({
    baseURL,
    timeout: timeoutMs,
    maxRedirects: 0,
    validateStatus: () => true,
    responseType: 'text',
    // The raw text: JSON is parsed by the endpoint's validator, so a broken body is a typed error.
    transformResponse: [(data: unknown) => data],
    maxContentLength: MAX_REPLY_BYTES,
    httpAgent,
    httpsAgent,
  });

  async function exchange(endpoint: PlatformEndpoint, request: PlatformRequest): Promise<PlatformReply> {
    const started = performance.now();
    // axios's `timeout` is reset by every byte on the socket; the signal bounds the whole call.
    const deadline = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { 'Content-Type': request.contentType, Accept: 'application/json' };
    if (request.authorization !== undefined) headers['Authorization'] = request.authorization;
    const send = () => client.post<string>(request.url, request.body, { headers, signal: deadline });
    try {
      const response = await send().catch((error: unknown) => retryOnStaleSocket(error, send, deadline));
      const reply = { status: response.status, body: typeof response.data === 'string' ? response.data : '' };
      if (reply.status >= 500) {
        throw new PlatformError('PLATFORM_UNAVAILABLE', 'The platform answered with a server error', { upstreamStatus: reply.status });
      }
      if (reply.status >= 300 && reply.status < 400) {
        // A redirect is never followed: it would carry the credentials somewhere we did not choose.
        throw new PlatformError('PLATFORM_BAD_RESPONSE', 'The platform answered with a redirect', { upstreamStatus: reply.status });
      }
      return reply;
    } catch (error) {
      throw error instanceof PlatformError ? error : transportError(error, deadline.aborted);
    } finally {
      metrics?.callDuration.observe({ endpoint }, (performance.now() - started) / 1000);
    }
  }

  async function post<T>(endpoint: PlatformEndpoint, request: PlatformRequest, interpret: (reply: PlatformReply) => T): Promise<T> {
    try {
      const reply = await guard.run(() => exchange(endpoint, request));
      const result = interpret(reply);
      metrics?.calls.inc({ endpoint, outcome: 'ok' });
      return result;
    } catch (error) {
      metrics?.calls.inc({ endpoint, outcome: outcomeOf(error) });
      throw error;
    }
  }

  return {
    postForm(endpoint, path, form, authorization, interpret) {
      const body = typeof form === 'string' ? form : form.toString();
      return post(endpoint, { url: path, body, contentType: 'application/x-www-form-urlencoded', authorization }, interpret);
    },
    post,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/**
 * A kept-alive socket that the server closed just as a request went out on it fails with a
 * reset before any answer (Node documents this race under `request.reusedSocket`). Such a call
 * is sent once more, on another socket. Had the platform read it after all, the cost is one
 * extra platform session that idles out, which a lost answer leaves anyway. A socket that fails
 * on its first request is a real failure and is not retried.
 */
function retryOnStaleSocket<T>(error: unknown, send: () => Promise<T>, deadline: AbortSignal): Promise<T> {
  if (!isStaleSocket(error) || deadline.aborted) throw error;
  return send();
}

function isStaleSocket(error: unknown): boolean {
  if (!(error instanceof AxiosError) || error.response !== undefined) return false;
  if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') return false;
  // With redirects off, axios's request is Node's own ClientRequest.
  const request: unknown = error.request;
  return request instanceof http.ClientRequest && request.reusedSocket;
}

/**
 * An axios error carries the request config, Authorization header included, so it is never
 * attached: the cause keeps only the transport code and message.
 */
function transportError(error: unknown, deadlinePassed: boolean): PlatformError {
  const code = error instanceof AxiosError ? error.code : undefined;
  const cause = new Error(`${code ?? 'ERROR'}: ${error instanceof Error ? error.message : 'request failed'}`);
  if (deadlinePassed || code === AxiosError.ECONNABORTED || code === AxiosError.ETIMEDOUT) {
    return new PlatformError('PLATFORM_TIMEOUT', 'The platform did not answer in time', { cause });
  }
  if (code === AxiosError.ERR_BAD_RESPONSE) {
    return new PlatformError('PLATFORM_BAD_RESPONSE', 'The platform answer could not be read', { cause });
  }
  return new PlatformError('PLATFORM_UNAVAILABLE', 'The platform could not be reached', { cause });
}

/** The reply body as a JSON object, or null when it is not one. */
export function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
