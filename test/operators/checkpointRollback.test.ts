/**
 * A partition checkpoint rolled back under a worker (a failover promoted a replica that had not
 * received the master's last writes), on a real Redis:
 * - the worker's remembered checkpoint is ahead of the state: entries are dropped as applied only
 *   on the word of the checkpoint in Redis, read in the script that acknowledges them;
 * - a batch given back for it (its entries pending again) must apply before the batch after it,
 *   which names the very checkpoint the state has: the apply script's chaining wants nothing
 *   pending between the checkpoint and the batch;
 * - the state revision a snapshot records must still grow, or merges of the rolled-back state
 *   would lose to the snapshot written from the lost one.
 */
import { Redis } from 'ioredis';
import { type Batch, partitionKeys } from 'redis-streams-consumer-groups';
import { firstValueFrom, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyState } from '../../operators/applyState.js';
import { CheckpointTracker } from '../../operators/checkpoints.js';
import type { BatchSettler } from '../../operators/fromConsumer.js';
import { stateKeys } from '../../operators/stateKeys.js';
import type { AggregatedPayload, Envelope, GroupSpec } from '../../operators/types.js';
import { ALL_TIME, applyHarness } from '../support/applyHarness.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const SPEC: GroupSpec = {
  reduce: 'sum',
  order: 'desc',
  windows: [ALL_TIME.definition],
  k: 10,
  tieBreak: 'member',
  retentionMs: 86_400_000,
};

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

  it('gives back a batch that names the checkpoint while an earlier entry is still pending', async () => {
    const name = uniqueName('ch');
    names.push(name);
    const harness = applyHarness(redis, name);
    const update = (member: string, value: number) => ({
      group: 'b',
      window: ALL_TIME,
      member,
      spec: SPEC,
      value,
      ts: 1,
    });
    // Two batches of partition 0, in stream order, both delivered to the group and unacknowledged:
    // the first given back (pending), the second in hand, as after a failover's rollback.
    const stream = partitionKeys(name, 0).stream;
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM');
    const first = await harness.batch(0, [update('ann', 5)]);
    const second = await harness.batch(0, [update('bob', 7)]);
    await redis.xreadgroup('GROUP', 'workers', 'w', 'COUNT', 10, 'STREAMS', stream, '>');

    const givenBack: string[] = [];
    const settler: BatchSettler = {
      checkpoints: new CheckpointTracker(redis, name),
      settle: () => {},
      giveBack: (_partition, lastId) => givenBack.push(lastId),
      holds: () => true,
    };
    const apply = (...envelopes: Envelope<AggregatedPayload>[]) =>
      firstValueFrom(
        of(...envelopes).pipe(
          applyState({ redis, name, consumerGroup: 'workers', source: settler }),
          toArray(),
        ),
      );
    const scores = () => redis.zrange(stateKeys(name, 0).scores('b', 'all:0'), 0, -1, 'WITHSCORES');

    // The second names the checkpoint the state has ("0-0"), but the first is pending before it.
    expect(await apply(second)).toEqual([]);
    expect(givenBack).toEqual([second.lastId]);
    expect(await scores(), 'nothing applied past the pending entry').toEqual([]);

    // In order, both apply.
    const applied = await apply(first, second);
    expect(applied.map((a) => a.lastId)).toEqual([first.lastId, second.lastId]);
    expect(await scores()).toEqual(['ann', '5', 'bob', '7']);
    expect(await redis.xpending(stream, 'workers')).toEqual([0, null, null, null]);
  });

  it('moves the state revision past every earlier one, also after the counter was rolled back', async () => {
    const name = uniqueName('rv');
    names.push(name);
    const harness = applyHarness(redis, name);
    const checkpoint = partitionKeys(name, 0).checkpoint;
    const update = { group: 'b', window: ALL_TIME, member: 'ann', spec: SPEC, value: 1, ts: 1 };
    await harness.apply(await harness.batch(0, [update]));
    const before = Number(await redis.hget(checkpoint, 'rev'));
    // As the promoted replica has it: the last revisions lost with the master's last writes.
    await redis.hset(checkpoint, 'rev', String(before - 1000));
    await harness.apply(await harness.batch(0, [update]));
    const after = Number(await redis.hget(checkpoint, 'rev'));
    expect(after).toBeGreaterThan(before);
    expect(Number.isSafeInteger(after), `${after} is kept to the digit`).toBe(true);
  });
});
