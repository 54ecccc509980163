/**
 * The edge's HTTP server: `@hono/node-server`'s request listener for the Hono app, with the
 * single-event ingest's Node-level fast path in front of it (`singleEventListener.ts`). What
 * `serve()` of `@hono/node-server` does, plus that one listener.
 */
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Services } from './services.js';
import { singleEventListener } from './singleEventListener.js';

export interface EdgeServerOptions {
  port: number;
  hostname: string;
  /** Called with errors that are not the client's fault (500s) on the fast path. */
  onServerError?: (error: unknown) => void;
  /** Leave every request to the Hono app (benchmarks measure the app without the fast path). */
  honoOnly?: boolean;
}

/**
 * Listens and resolves with the server once it accepts connections.
 *
 * @example
 * const server = await listenEdge(createApp(services), services, { port: 3000, hostname: '127.0.0.1' });
 */
export function listenEdge(app: Hono, services: Services, options: EdgeServerOptions): Promise<Server> {
  const hono = getRequestListener(app.fetch, { hostname: options.hostname });
  const single = options.honoOnly ? undefined : singleEventListener(services, options.onServerError);
  const server = createServer((req, res) => {
    if (single?.(req, res)) return;
    void hono(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
