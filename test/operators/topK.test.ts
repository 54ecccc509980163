/**
 * The top-K stage on a real Redis: a top is merged as soon as a batch marks it (on the next turn
 * of the event loop, not at the next refresh tick), a top marked again within `refreshMs` of its
 * last merge waits for that interval, and what is still marked when the stage completes is merged
 * at once before it completes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { snapshotKey } from '../../operators/stateKeys.js';
import { topK } from '../../operators/topK.js';
import type { AppliedBatch, GroupSpec, Snapshot } from '../../operators/types.js';
import { ALL_TIME, applyHarness } from '../support/applyHarness.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';
import { freePort } from '../support/redisServer.js';

const SPEC: GroupSpec = {
  reduce: 'sum',
  windows: [ALL_TIME.definition],
  order: 'desc',
  k: 3,
  tieBreak: 'member',
  retentionMs: 86_400_000,
};
const update = (member: string, value: number) => ({
  group: 'b',
  window: ALL_TIME,
  member,
  spec: SPEC,
  value,
  ts: 1,
});

describe('topK', () => {
  let redis: Redis;
  let name: string;
  beforeEach(() => {
    redis = new Redis(redisUrl());
    name = uniqueName('tk');
  });
  afterEach(async () => {
    await dropKeys(redis, name);
    await redis.quit();
  });

  it('merges a marked top at once, holds a second mark for refreshMs, and merges what is marked when it completes', async () => {
    const harness = applyHarness(redis, name);
    const applied = new Subject<AppliedBatch>();
    const seen: Snapshot[] = [];
    const busy: boolean[] = [];
    // A refresh interval far longer than the test: only a merge that does not wait for it shows up.
    const done = lastValueFrom(
      applied.pipe(
        topK({ redis, name, partitions: 2, refreshMs: 600_000, onBusy: (b) => busy.push(b) }),
        tap((s) => seen.push(s)),
        toArray(),
      ),
    );

    const first = await harness.apply(await harness.batch(0, [update('ann', 5)]));
    expect(first.changed).toEqual([{ group: 'b', window: ALL_TIME, spec: SPEC }]);
    applied.next(first);
    await waitUntil(() => seen.length === 1, 10_000, 'the first merge');
    expect(seen[0]).toMatchObject({ group: 'b', window: ALL_TIME, version: 1 });
    expect(seen[0]!.entries).toEqual([{ rank: 1, member: 'ann', score: 5 }]);
    expect(seen[0]!.oldestArrival).toBe(first.oldestArrival);

    const second = await harness.apply(await harness.batch(1, [update('bob', 7)]));
    applied.next(second);
    // A batch that marks nothing merges nothing.
    applied.next({ ...second, changed: [] });
    await sleep(200);
    expect(seen, 'the second mark waits for the refresh interval').toHaveLength(1);

    applied.complete();
    const all = await done;
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ version: 2 });
    expect(all[1]!.entries).toEqual([
      { rank: 1, member: 'bob', score: 7 },
      { rank: 2, member: 'ann', score: 5 },
    ]);
    expect(JSON.parse((await redis.hget(snapshotKey(name, 'b', 'all:0'), 'entries'))!)).toEqual(
      all[1]!.entries,
    );
    // Busy while a merge is scheduled or running, idle after the last one.
    expect(busy.length).toBeGreaterThanOrEqual(4);
    expect(busy).toEqual(busy.map((_, i) => i % 2 === 0));
  });

  it('backs off the retries of a top whose merges fail (Redis unreachable)', async () => {
    const harness = applyHarness(redis, name);
    const batch = await harness.apply(await harness.batch(0, [update('ann', 5)]));
    // A client of a port nobody listens on: every merge fails at once.
    const unreachable = new Redis({
      port: await freePort(),
      enableOfflineQueue: false,
      retryStrategy: () => 50,
      lazyConnect: true,
    });
    unreachable.on('error', () => {});
    const failures: number[] = [];
    const applied = new Subject<AppliedBatch>();
    const subscription = applied
      .pipe(
        topK({
          redis: unreachable,
          name,
          partitions: 2,
          refreshMs: 20,
          onError: () => failures.push(Date.now()),
        }),
      )
      .subscribe();
    try {
      applied.next(batch);
      await sleep(1200);
      // Without the back-off: a failure every 20 ms (about 60); with it: after 40, 80, 160... ms.
      expect(failures.length).toBeGreaterThanOrEqual(3);
      expect(failures.length).toBeLessThanOrEqual(12);
      const gaps = failures.slice(1).map((t, i) => t - failures[i]!);
      expect(gaps.at(-1)!).toBeGreaterThan(2 * gaps[0]!);
    } finally {
      subscription.unsubscribe();
      unreachable.disconnect();
    }
  });
});
