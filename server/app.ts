/**
 * The Hono application: every route of API.md, the contract's JSON errors, and request metrics.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { HttpError } from './httpError.js';
import { boardRoutes } from './routes/boards.js';
import { ingestRoutes } from './routes/ingest.js';
import { type LiveOptions, liveRoutes } from './routes/live.js';
import { operationRoutes } from './routes/operations.js';
import { readRoutes } from './routes/reads.js';
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
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json(
          {
            error: {
              code: 'method-not-allowed',
              message: `${c.req.method} is not allowed here; use ${methods.join(', ')}`,
            },
          },
          405,
          { Allow: methods.join(', ') },
        ),
    }),
  );
  app.route('/', operationRoutes(services));
  app.route('/', boardRoutes(services));
  app.route('/', ingestRoutes(services));
  app.route('/', readRoutes(services));
  app.route('/', userRoutes(services));
  app.route('/', liveRoutes(services, options.live));

  app.notFound((c) =>
    c.json({ error: { code: 'not-found', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status as 400, error.headers);
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = status === 413 ? 'payload-too-large' : status === 401 ? 'unauthorized' : 'bad-request';
      return c.json({ error: { code, message: error.message || 'bad request' } }, status);
    }
    options.onServerError?.(error);
    return c.json(
      { error: { code: 'internal', message: 'an unexpected error occurred; it was logged' } },
      500,
    );
  });
  return app;
}
