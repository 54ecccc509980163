/**
 * The tests' private `redis-server`: the same helper the benchmark runner uses, so that there is
 * one copy of it. It lives in `loadtest/harness/` because the build includes `loadtest/`, not `test/`.
 */
export type { RedisServerHandle, RedisServerOptions } from '../../server/redisServerProcess.js';
export { freePort, startRedisServer } from '../../server/redisServerProcess.js';
