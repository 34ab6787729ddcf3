import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import OAuth2Server, { Request, Response, type Client, type RefreshToken, type Token, type User } from '@node-oauth/oauth2-server';

/**
 * @node-oauth/oauth2-server, a second authorization server nobody here wrote, in this process on
 * 127.0.0.1: the password, client_credentials and refresh_token grants over an in-memory model.
 * It reads HTTP Basic with the `basic-auth` package: the raw bytes, no form-decoding.
 */
export interface OAuth2ServerPeerOptions {
  /** `grants`: the grant types it may use; default password, client_credentials, refresh_token */
  client: { id: string; secret: string; grants?: string[] };
  user?: { username: string; password: string };
  /** The scopes it grants; a request for others gets the ones it knows (a narrower grant). Default: all asked. */
  grants?: readonly string[];
  accessTokenLifetime?: number;
}

export interface OAuth2ServerPeer {
  tokenUrl: string;
  /** Successful grants by grant_type. */
  granted: Record<string, number>;
  close(): Promise<void>;
}

function memoryModel(options: OAuth2ServerPeerOptions) {
  const tokens = new Map<string, Token>();
  const allowed = options.grants ? new Set(options.grants) : undefined;
  const client: Client = { id: options.client.id, grants: options.client.grants ?? ['password', 'client_credentials', 'refresh_token'] };
  return {
    async getClient(id: string, secret: string | null) {
      return id === options.client.id && secret === options.client.secret ? client : false;
    },
    async getUser(username: string, password: string): Promise<User | false> {
      return options.user && username === options.user.username && password === options.user.password ? { id: username } : false;
    },
    async getUserFromClient(): Promise<User> {
      return { id: `client:${options.client.id}` };
    },
    async validateScope(_user: User, _client: Client, scope?: string[]) {
      if (!allowed || !scope || scope.length === 0) return scope ?? [];
      const kept = (scope ?? []).filter((value) => allowed.has(value));
      return kept.length > 0 ? kept : false;
    },
    async saveToken(token: Token, tokenClient: Client, user: User): Promise<Token> {
      const saved = { ...token, client: tokenClient, user };
      if (token.refreshToken) tokens.set(token.refreshToken, saved);
      return saved;
    },
    async getRefreshToken(refreshToken: string): Promise<RefreshToken | false> {
      const token = tokens.get(refreshToken);
      return token ? ({ ...token, refreshToken } as RefreshToken) : false;
    },
    async revokeToken(token: RefreshToken): Promise<boolean> {
      return tokens.delete(token.refreshToken);
    },
    async getAccessToken() {
      return false as const;
    },
  };
}

export async function startOAuth2ServerPeer(options: OAuth2ServerPeerOptions): Promise<OAuth2ServerPeer> {
  // The model's functions match the grants used here; the package's own model type wants every grant's.
  const server = new OAuth2Server({ model: memoryModel(options) as never, accessTokenLifetime: options.accessTokenLifetime ?? 3600, allowEmptyState: true });
  const granted: Record<string, number> = {};
  const app = express();
  app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
    const response = new Response(res);
    try {
      await server.token(new Request(req), response);
      granted[String(req.body.grant_type)] = (granted[String(req.body.grant_type)] ?? 0) + 1;
      res.status(response.status ?? 200).set(response.headers).json(response.body);
    } catch (error) {
      const failure = error as { code?: number; name?: string; message?: string };
      res.status(failure.code ?? 500).set(response.headers).json({ error: failure.name, error_description: failure.message });
    }
  });
  const listener = http.createServer(app);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  return {
    tokenUrl: `http://127.0.0.1:${port}/token`,
    granted,
    close: () =>
      new Promise<void>((resolve) => {
        listener.closeAllConnections();
        listener.close(() => resolve());
      }),
  };
}
