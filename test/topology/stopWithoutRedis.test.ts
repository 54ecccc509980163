import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { BoardRegistry, EventWriter, LeaderboardWorkers } from '../../leaderboard/index.js';
import { drained, scoreTable } from '../support/leaderboardState.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

describe('stopping workers while Redis is unreachable', () => {
  let redis: Redis;
  let name: string;
  beforeEach(() => {
    redis = new Redis(redisUrl());
    name = uniqueName('sw');
  });
  afterEach(async () => {
    await dropKeys(redis, name);
    await redis.quit();
  });

  it('returns once the lease has run out instead of retrying the apply forever', async () => {
    const cut = new Redis(redisUrl(), { retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const boards = new BoardRegistry(redis, name);
    await boards.load();
    const writer = new EventWriter(redis, { name, partitions: 2 });
    await writer.append(
      Array.from({ length: 2000 }, (_, i) => ({
        board: 'global',
        userId: `u${i}`,
        value: 1,
        ts: Date.now(),
      })),
    );
    writer.close();
    const workers = new LeaderboardWorkers({
      redis: cut,
      boards: new BoardRegistry(cut, name),
      name,
      partitions: 2,
      consumer: { leaseMs: 600, blockMs: 20, batchSize: 10 },
      onError: () => {},
    });
    await workers.start();
    await waitUntil(() => workers.ownedPartitions().length > 0, 10_000, 'partitions owned');
    await sleep(50);
    cut.disconnect();
    const outcome = await Promise.race([
      workers.stop().then(() => 'stopped'),
      sleep(8000).then(() => 'hung'),
    ]);
    expect(outcome).toBe('stopped');
    // Nothing was lost or counted twice: fresh workers finish the rest, and every event counts once.
    const next = new LeaderboardWorkers({
      redis,
      boards,
      name,
      partitions: 2,
      consumer: { leaseMs: 600, blockMs: 20 },
    });
    await next.start();
    await waitUntil(() => drained(redis, name, 'workers', 2), 20_000, 'the rest applied');
    await next.stop();
    const scores = await scoreTable(redis, name, 2, 'global', 'all:0');
    expect(Object.values(scores).reduce((a, b) => a + b, 0)).toBe(2000);
  });
});
