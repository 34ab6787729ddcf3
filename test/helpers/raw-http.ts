import net from 'node:net';

export interface RawRequest {
  method: string;
  /** sent byte for byte: may hold what no HTTP client library would let through */
  target: string | Buffer;
  headers?: Array<[string, string | Buffer]>;
  body?: string | Buffer;
  /** a Content-Length of the body's size is added unless a header of that name is given */
  omitContentLength?: boolean;
  /** end the connection's sending side right after the request: a client that went away */
  hangUp?: boolean;
  /** leave out the Host header that is otherwise sent first */
  omitHost?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parse(data: Buffer): RawResponse {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`no complete response head in ${JSON.stringify(data.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const rest = data.subarray(headEnd + 4);
  const body = headers.get('transfer-encoding') === 'chunked' ? decodeChunked(rest) : rest;
  return { status, headers, body: body.toString('utf8') };
}

/**
 * One request on its own connection (`Connection: close`), written as raw bytes, so a test can
 * send a malformed request line, header or body exactly as an attacker would.
 */
export function sendRaw(port: number, request: RawRequest, timeoutMs = 5_000): Promise<RawResponse> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers: Array<[string, string | Buffer]> = [...(request.omitHost ? [] : [['Host', `127.0.0.1:${port}`] as [string, string]]), ['Connection', 'close'], ...(request.headers ?? [])];
  const hasLength = headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  if (!hasLength && !request.omitContentLength && (body.length > 0 || request.method === 'POST')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  const head = Buffer.concat([
    Buffer.from(`${request.method} `, 'latin1'),
    Buffer.from(request.target),
    Buffer.from(' HTTP/1.1\r\n', 'latin1'),
    ...headers.flatMap(([name, value]) => [Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n', 'latin1')]),
    Buffer.from('\r\n', 'latin1'),
  ]);

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      const bytes = Buffer.concat([head, body]);
      if (request.hangUp) socket.end(bytes);
      else socket.write(bytes);
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (hadError) return;
      try {
        resolve(parse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}
