/**
 * The apply script's judgement of which tops a batch may have changed (`topChanges.lua`): never a
 * change of a partition's local top-K left unmarked, for every policy and order, with scores that
 * rise, fall and tie; and changes far below the top left unmarked.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateKeys } from '../../operators/stateKeys.js';
import type { GroupSpec, Order, Reducer } from '../../operators/types.js';
import { ALL_TIME, applyHarness } from '../support/applyHarness.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

type Policy = Exclude<Reducer, 'count'>;
const board = (policy: Policy, order: Order, topK: number): GroupSpec => ({
  reduce: policy,
  order,
  windows: [ALL_TIME.definition],
  k: topK,
  tieBreak: 'member',
  retentionMs: 86_400_000,
});

describe('the apply script marks the tops a batch may have changed', () => {
  let redis: Redis;
  const names: string[] = [];
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const name of names) await dropKeys(redis, name);
    await redis.quit();
  });

  const localTop = async (name: string, spec: GroupSpec) => {
    const key = stateKeys(name, 0).scores('b', 'all:0');
    return spec.order === 'desc'
      ? redis.zrange(key, 0, spec.k - 1, 'REV', 'WITHSCORES')
      : redis.zrange(key, 0, spec.k - 1, 'WITHSCORES');
  };

  it('marks every batch that changes the partition’s local top-K (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Policy>('sum', 'max', 'min', 'last'),
        fc.constantFrom<Order>('desc', 'asc'),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.array(fc.record({ user: fc.nat(5), value: fc.integer({ min: -6, max: 6 }), ts: fc.nat(4) }), {
            minLength: 1,
            maxLength: 4,
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (policy, order, topK, batches) => {
          const name = uniqueName('tc');
          names.push(name);
          const config = board(policy, order, topK);
          const harness = applyHarness(redis, name);
          for (const updates of batches) {
            // One update per user and batch, as the aggregate stage hands them on.
            const byUser = new Map(updates.map((u) => [u.user, u]));
            const before = await localTop(name, config);
            const applied = await harness.apply(
              await harness.batch(
                0,
                [...byUser.values()].map((u) => ({
                  group: 'b',
                  window: ALL_TIME,
                  member: `u${u.user}`,
                  spec: config,
                  value: u.value,
                  ts: u.ts,
                })),
              ),
            );
            const after = await localTop(name, config);
            if (JSON.stringify(before) !== JSON.stringify(after)) {
              expect(applied.changed, `${policy} ${order} K=${topK}: ${before} -> ${after}`).toEqual([
                { group: 'b', window: ALL_TIME, spec: config },
              ]);
            }
          }
          await dropKeys(redis, name);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves a change far below a full top unmarked', async () => {
    const name = uniqueName('tc');
    names.push(name);
    const config = board('sum', 'desc', 2);
    const harness = applyHarness(redis, name);
    const update = (member: string, value: number) => ({
      group: 'b',
      window: ALL_TIME,
      member,
      spec: config,
      value,
      ts: 1,
    });
    await harness.apply(await harness.batch(0, [update('a', 100), update('b', 90), update('c', 1)]));
    const below = await harness.apply(await harness.batch(0, [update('c', 5)]));
    expect(below.changed).toEqual([]);
    const into = await harness.apply(await harness.batch(0, [update('c', 200)]));
    expect(into.changed).toEqual([{ group: 'b', window: ALL_TIME, spec: config }]);
  });
});
