/**
 * The tests' private `redis-server`: the same helper the benchmark runner uses, so that there is
 * one copy of it. It lives in `loadtest/harness/` because the build includes `loadtest/`, not `test/`.
 */
export type { RedisServerHandle, RedisServerOptions } from '../../loadtest/harness/redisServer.js';
export { freePort, startRedisServer } from '../../loadtest/harness/redisServer.js';
