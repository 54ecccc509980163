/** `GET /v1/stats`: the dashboard's per-second samples of ingest, apply, freshness and backlog. */
import { Hono } from 'hono';
import type { Services } from '../services.js';
import { queryInt } from '../validation.js';
import { routeGuards } from './guards.js';

export function statsRoutes(services: Services): Hono {
  const app = new Hono();
  const { read: readers, limit } = routeGuards(services);

  app.get('/v1/stats', readers, limit, (c) => {
    const since = queryInt(c.req.query('since'), 'since', 0);
    return c.json(services.stats.body(since), 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
