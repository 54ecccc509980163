/**
 * The access rules of the routes, defined once: the scope each kind of route needs (reads need a
 * key only when READS_REQUIRE_KEY is set) and the per-key rate limit shared by every route.
 */
import { requireScope } from '../auth/index.js';
import type { Services } from '../services.js';

/**
 * @example
 * const { read, limit } = routeGuards(services);
 * app.get('/v1/boards', read, limit, handler);
 */
export function routeGuards(services: Services) {
  const { keys, config } = services;
  return {
    read: requireScope({ keys, scope: 'read', required: config.READS_REQUIRE_KEY }),
    ingest: requireScope({ keys, scope: 'ingest' }),
    admin: requireScope({ keys, scope: 'admin' }),
    limit: services.limiter,
  };
}
