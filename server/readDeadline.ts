/**
 * The deadline of a read: a read that has not got what it needs from Redis within
 * `REDIS_READ_TIMEOUT_MS` is answered 503. Each read command already times out after that long
 * (the read connection's command timeout), but on a Redis Cluster ioredis sends a command again,
 * up to 16 times, while the cluster answers `CLUSTERDOWN` or `TRYAGAIN` or a node's connection
 * closed, 100 ms apart and each time with a fresh timeout: a read of a shard that is down took
 * 1.7 to 4.7 s to fail in the drills (`test/drills/replicatedRedis.test.ts`). The deadline bounds the
 * whole read instead, whatever the client does underneath.
 */
import type { MiddlewareHandler } from 'hono';
import { unavailable } from './httpError.js';

/**
 * A middleware that answers 503 `unavailable` (with `Retry-After`) when the rest of the request
 * has not answered within `ms`. A live (SSE) read is bound until its first frame: its handler
 * returns the stream's response at once.
 *
 * @example
 * app.get('/v1/boards/:board/top', readDeadline(2000), handler);
 */
export function readDeadline(ms: number): MiddlewareHandler {
  return function readDeadline(_c, next) {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(unavailable('Redis (or the shard this read needs)')), ms);
    });
    return Promise.race([next(), expired]).finally(() => clearTimeout(timer));
  };
}
