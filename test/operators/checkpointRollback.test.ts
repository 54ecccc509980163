/**
 * A partition checkpoint rolled back under a worker (a failover promoted a replica that had not
 * received the master's last writes), on a real Redis: the worker's remembered checkpoint is
 * ahead of the state, so entries are dropped as applied only on the word of the checkpoint in
 * Redis, read in the script that acknowledges them.
 */
import { Redis } from 'ioredis';
import { type Batch, partitionKeys } from 'redis-streams-consumer-groups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointTracker } from '../../operators/checkpoints.js';
import { applyHarness } from '../support/applyHarness.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

describe('a partition checkpoint rolled back under its worker', () => {
  let redis: Redis;
  const names: string[] = [];
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const name of names) await dropKeys(redis, name);
    await redis.quit();
  });

  it('acknowledges as applied only what the checkpoint in Redis covers, not the remembered one', async () => {
    const name = uniqueName('rb');
    names.push(name);
    const harness = applyHarness(redis, name);
    const stream = partitionKeys(name, 0).stream;
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM');
    const envelopes = [await harness.batch(0, []), await harness.batch(0, []), await harness.batch(0, [])];
    await redis.xreadgroup('GROUP', 'workers', 'w', 'COUNT', 10, 'STREAMS', stream, '>');
    const [a, b, c] = envelopes.map((e) => e.lastId) as [string, string, string];
    const { epoch, token } = envelopes[2]!;
    const batch: Batch = {
      partition: 0,
      stream,
      entries: [a, b, c].map((id) => ({ id, fields: {}, deliveries: 1 })),
      firstId: a,
      lastId: c,
      epoch,
      token,
      redelivered: false,
    };

    // This process applied through c; the state it finds after the failover has nothing.
    const tracker = new CheckpointTracker(redis, name);
    tracker.advance(0, epoch, c, 0);
    expect(await tracker.get(0, epoch)).toBe(c);
    expect(await tracker.acknowledgeApplied(batch, 'workers')).toBe('0-0');
    const pending = async () => (await redis.xpending(stream, 'workers')) as [number, string, string];
    expect(await pending(), 'all three still to apply').toEqual([3, a, c, [['w', '3']]]);
    expect(await tracker.get(0, epoch), 'and remembered so').toBe('0-0');

    // The state holds a: only a is acknowledged, and b and c are to apply.
    await redis.hset(partitionKeys(name, 0).checkpoint, 'id', a);
    expect(await tracker.acknowledgeApplied(batch, 'workers')).toBe(a);
    expect(await pending()).toEqual([2, b, c, [['w', '2']]]);
  });
});
