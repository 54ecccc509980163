/**
 * The edge's HTTP server: `@hono/node-server`'s request listener for the Hono app, with the
 * single-event ingest's Node-level fast path in front of it (`singleEventListener.ts`). What
 * `serve()` of `@hono/node-server` does, plus that one listener, and the server's defences
 * against clients that hold its sockets (issue 15): header, request, keep-alive and idle
 * timeouts checked every `CONNECTIONS_CHECK_MS`, caps on connections in total and per client
 * (`connectionLimits.ts`), and JSON answers to Node's own refusals (`clientErrors.ts`).
 */
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { onClientError } from './clientErrors.js';
import type { Config } from './config.js';
import { ConnectionLimits } from './connectionLimits.js';
import { openFileLimit, resolveMaxConnections } from './openFileLimit.js';
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

/** A listening edge server and its connection caps (for metrics and tests). */
export interface EdgeServer extends Server {
  connectionLimits: ConnectionLimits;
}

/**
 * Listens and resolves with the server once it accepts connections. Its timeouts and caps come
 * from `services.config`; a `MAX_CONNECTIONS` that does not fit under the open-file limit
 * rejects, naming both.
 *
 * @example
 * const server = await listenEdge(createApp(services), services, { port: 3000, hostname: '127.0.0.1' });
 */
export function listenEdge(app: Hono, services: Services, options: EdgeServerOptions): Promise<EdgeServer> {
  const { config, metrics } = services;
  const hono = getRequestListener(app.fetch, { hostname: options.hostname });
  const single = options.honoOnly ? undefined : singleEventListener(services, options.onServerError);
  let server: EdgeServer;
  try {
    const maxConnections = resolveMaxConnections(config.MAX_CONNECTIONS, openFileLimit());
    server = Object.assign(
      createServer(serverOptions(config), (req, res) => {
        if (single?.(req, res)) return;
        void hono(req, res);
      }),
      {
        connectionLimits: new ConnectionLimits({
          maxConnections,
          maxPerClient: config.MAX_CONNECTIONS_PER_CLIENT,
          proxies: services.proxies,
          onRefused: (reason) => metrics.connectionsRefused.inc({ reason }),
        }),
      },
    );
  } catch (error) {
    return Promise.reject(error);
  }
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  server.maxRequestsPerSocket = config.MAX_REQUESTS_PER_SOCKET;
  // A socket with no traffic either way (a client that stopped reading a response) is closed.
  server.timeout = config.SOCKET_IDLE_TIMEOUT_MS;
  server.on('clientError', onClientError);
  server.connectionLimits.attach(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Node's own timeouts, set where only the constructor takes them. */
function serverOptions(config: Config) {
  return {
    headersTimeout: config.HEADERS_TIMEOUT_MS,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // Node checks the two timeouts above on this interval (30 s by default, so a slowloris
    // socket lived 84 s against a 60 s header timeout).
    connectionsCheckingInterval: config.CONNECTIONS_CHECK_MS,
  };
}
