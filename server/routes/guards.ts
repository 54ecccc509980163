/**
 * The access rules of the routes, defined once: the scope each kind of route needs (reads need a
 * key only when READS_REQUIRE_KEY is set), the per-key rate limit shared by every route, and the
 * deadline of reads (REDIS_READ_TIMEOUT_MS).
 */
import type { MiddlewareHandler } from 'hono';
import { type AuthVariables, requireScope } from '../auth/index.js';
import { readDeadline } from '../readDeadline.js';
import type { Services } from '../services.js';

/**
 * @example
 * const { read, limit } = routeGuards(services);
 * app.get('/v1/boards', read, limit, handler);
 */
export function routeGuards(services: Services) {
  const { keys, config } = services;
  const readScope = requireScope({ keys, scope: 'read', required: config.READS_REQUIRE_KEY });
  const deadline = readDeadline(config.REDIS_READ_TIMEOUT_MS);
  const read: MiddlewareHandler<{ Variables: AuthVariables }> = (c, next) =>
    readScope(c, () => deadline(c, next) as Promise<void>);
  return {
    read,
    ingest: requireScope({ keys, scope: 'ingest' }),
    admin: requireScope({ keys, scope: 'admin' }),
    limit: services.limiter,
  };
}
