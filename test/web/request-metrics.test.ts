import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { createRequestMetrics } from '../../src/web/request-metrics';
import { waitFor } from '../helpers/wait-for';

/** An app whose `/slow/:id` answers only when told to, counted by the request metrics. */
async function slowApp() {
  const registry = new Registry();
  const app = express();
  const waiting: http.ServerResponse[] = [];
  app.use(createRequestMetrics(registry).handler);
  app.get('/slow/:id', (_req, res) => void waiting.push(res));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { registry, waiting, port, close };
}

describe('request metrics: an answer the client left before it was done', () => {
  it("is counted as aborted under its route, not as the 200 it never sent", async () => {
    const app = await slowApp();
    try {
      const request = http.get({ host: '127.0.0.1', port: app.port, path: '/slow/12345?x=1' });
      request.on('error', () => undefined);
      await waitFor(() => app.waiting.length === 1, 'the request to reach the route');
      request.destroy();
      await waitFor(async () => (await app.registry.metrics()).includes('http_requests_total{'), 'the aborted answer counted');
      const text = await app.registry.metrics();
      expect(text).toContain('http_requests_total{method="GET",route="/slow/:id",status="aborted"} 1');
      expect(text).not.toContain('status="2xx"');
      expect(text).not.toContain('12345');
    } finally {
      for (const res of app.waiting) res.destroy();
      await app.close();
    }
  });
});
