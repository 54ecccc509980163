/**
 * The Hono application: every route of API.md, the contract's JSON errors, and request metrics.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TrieRouter } from 'hono/router/trie-router';
import { HttpError, internalError, isRedisUnavailable, unavailable } from './httpError.js';
import { boardRoutes } from './routes/boards.js';
import { dashboardRoutes } from './routes/dashboardPage.js';
import { ingestRoutes } from './routes/ingest.js';
import { type LiveOptions, liveRoutes } from './routes/live.js';
import { operationRoutes } from './routes/operations.js';
import { readRoutes } from './routes/reads.js';
import { statsRoutes } from './routes/stats.js';
import { userRoutes } from './routes/users.js';
import type { Services } from './services.js';

export interface AppOptions {
  live?: LiveOptions;
  /** Called with errors that are not the client's fault (500s). */
  onServerError?: (error: unknown) => void;
}

/**
 * @example
 * const app = createApp(services);
 * const res = await app.request('/v1/boards');
 */
export function createApp(services: Services, options: AppOptions = {}): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
    services.metrics.requests.inc({ route, status: String(c.res.status) });
  });
  app.route('/', operationRoutes(services));
  app.route('/', boardRoutes(services));
  app.route('/', ingestRoutes(services));
  app.route('/', readRoutes(services));
  app.route('/', userRoutes(services));
  app.route('/', liveRoutes(services, options.live));
  app.route('/', statsRoutes(services));
  app.route('/', dashboardRoutes());

  // 405 comes from the not-found handler rather than a middleware around every request: only a
  // request that matched no route pays for finding the methods its path allows.
  const allowedMethods = methodsByPath(app);
  app.notFound((c) => {
    const methods = allowedMethods(c.req.path);
    if (methods.length > 0 && !methods.includes(c.req.method)) {
      return c.json(
        {
          error: {
            code: 'method-not-allowed',
            message: `${c.req.method} is not allowed here; use ${methods.join(', ')}`,
          },
        },
        405,
        { Allow: methods.join(', ') },
      );
    }
    return c.json({ error: { code: 'not-found', message: `no route ${c.req.method} ${c.req.path}` } }, 404);
  });
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status as 400, error.headers);
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = status === 413 ? 'payload-too-large' : status === 401 ? 'unauthorized' : 'bad-request';
      return c.json({ error: { code, message: error.message || 'bad request' } }, status);
    }
    if (isRedisUnavailable(error)) {
      const answer = unavailable('Redis (or the shard this read needs)');
      return c.json(answer.toJSON(), 503, answer.headers);
    }
    options.onServerError?.(error);
    return c.json(internalError().toJSON(), 500);
  });
  return app;
}

/**
 * The methods an app's routes accept for a path (GET implies HEAD), from its route table, read
 * once on first use: the routes are all registered by then.
 */
function methodsByPath(app: Hono): (path: string) => string[] {
  let router: TrieRouter<string[]> | undefined;
  return (path) => {
    if (!router) {
      const byPath = new Map<string, Set<string>>();
      for (const route of app.routes) {
        if (route.method === 'ALL' || route.method === 'HEAD') continue;
        const methods = byPath.get(route.path) ?? new Set<string>();
        methods.add(route.method);
        if (route.method === 'GET') methods.add('HEAD');
        byPath.set(route.path, methods);
      }
      router = new TrieRouter<string[]>();
      for (const [routePath, methods] of byPath) router.add('ALL', routePath, [...methods]);
    }
    const allowed = new Set<string>();
    for (const [methods] of router.match('ALL', path)[0]) for (const method of methods) allowed.add(method);
    return [...allowed];
  };
}
