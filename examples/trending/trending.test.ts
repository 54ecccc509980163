/**
 * The trending example against a real redis-server, through the library's test driver: revenue
 * summed per product within each category and hopping hour, a repeated order counted once, late
 * orders on the side output, bad records dead-lettered, and the closed hours' final tops.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisUrl } from '../../test/support/redis.js';
import { type ClosedTop, TopologyTestDriver } from '../../topology/index.js';
import { type Order, trending } from './trending.js';

const MINUTE = 60_000;
// An hour some hours ago: its windows are still within their retention (7 days).
const T = Math.floor(Date.now() / (60 * MINUTE)) * 60 * MINUTE - 5 * 60 * MINUTE;

describe('trending products per category, hourly windows every ten minutes', () => {
  let redis: Redis;
  let driver: TopologyTestDriver<Order>;
  const archived: ClosedTop[] = [];
  beforeEach(async () => {
    redis = new Redis(redisUrl());
    driver = await TopologyTestDriver.start(
      trending({
        archive: async (top) => {
          archived.push(top);
          return true;
        },
      }),
      { redis, partitions: 3 },
    );
  });
  afterEach(async () => {
    await driver.close();
    await redis.quit();
  });

  const order = (
    orderId: string,
    productId: string,
    category: string,
    price: number,
    qty: number,
    at: number,
  ): Order => ({
    orderId,
    productId,
    category,
    price,
    qty,
    at,
  });

  it('ranks each category’s products by revenue in every hour that holds their orders', async () => {
    await driver.pipe(
      order('o1', 'p1', 'books', 10, 2, T),
      order('o2', 'p2', 'books', 30, 1, T + 5 * MINUTE),
      order('o3', 'p1', 'books', 10, 1, T + 20 * MINUTE),
      order('o1', 'p1', 'books', 10, 2, T + 21 * MINUTE), // a retry of o1: counted once
      order('o4', 'g1', 'games', 60, 1, T + 30 * MINUTE),
    );
    await driver.process();

    // The hour from 10:00 is the newest one holding 10:05.
    expect(await driver.top('books', 'PT1H+PT10M', T + 5 * MINUTE)).toEqual([
      { rank: 1, member: 'p2', score: 30 },
      { rank: 1, member: 'p1', score: 30 },
    ]);
    // The hour from 10:20 holds o3 only.
    expect(await driver.top('books', 'PT1H+PT10M', T + 25 * MINUTE)).toEqual([
      { rank: 1, member: 'p1', score: 10 },
    ]);
    expect(await driver.top('games', 'PT1H+PT10M', T + 30 * MINUTE)).toEqual([
      { rank: 1, member: 'g1', score: 60 },
    ]);

    const window = driver.store.windowAt('books', 'PT1H+PT10M', T + 5 * MINUTE)!;
    expect(await driver.store.standing('books', window, 'p1')).toEqual({
      member: 'p1',
      score: 30,
      rank: 1,
      total: 2,
      percentile: 100,
    });
    expect(await driver.store.scoresOf('books', window, ['p1', 'p2', 'nope'])).toEqual(
      new Map([
        ['p1', 30],
        ['p2', 30],
      ]),
    );
  });

  it('sets late orders aside, dead-letters bad records, and archives the closed hours’ final tops', async () => {
    await driver.pipe(order('o1', 'p1', 'books', 10, 1, T));
    await driver.advanceStreamTime(T + 2 * 60 * MINUTE); // 12:00: every hour holding 10:10 is closed
    await driver.pipe(order('o2', 'p1', 'books', 99, 1, T + 10 * MINUTE));
    await driver.pipeRaw(0, [
      'd',
      JSON.stringify({ orderId: 'x', productId: 'p', category: 'Bad Cat', price: 1, qty: 1, at: T }),
    ]);
    await driver.process();

    expect(driver.late.map((l) => [l.record.member, l.window.key])).toEqual(
      [50, 40, 30, 20, 10, 0].map((back) => ['p1', `PT1H+PT10M:${T + 10 * MINUTE - back * MINUTE}`]),
    );
    const letters = await driver.deadLetters();
    expect(letters.map((l) => l.reason)).toEqual([
      'category: Invalid string: must match pattern /^[a-z0-9-]{1,40}$/',
    ]);
    expect(await driver.top('books', 'PT1H+PT10M', T + 5 * MINUTE)).toEqual([
      { rank: 1, member: 'p1', score: 10 },
    ]);

    const closed = await driver.closeWindows(T + 3 * 60 * MINUTE);
    expect(closed.map((c) => [c.group, c.windowStart, c.entries])).toEqual(
      [50, 40, 30, 20, 10, 0].map((back) => [
        'books',
        T - back * MINUTE,
        [{ rank: 1, member: 'p1', score: 10 }],
      ]),
    );
  });

  it('describes its graph, branches included', () => {
    expect(driver.topology.describe()).toMatchInlineSnapshot(`
      "Topology: trending
        Source: source (consumer group on {orders:p}:in, leased partitions)
          --> decode
        Processor: decode (decode entries; undecodable ones are dead-lettered with their batch)
          --> key, dead-letters
        Processor: key (group, member, value, time, id of each record; unknown groups are dead-lettered)
          --> windows, dead-letters
        Processor: windows (event-time windows (hopping PT1H advancing by PT10M, grace PT5M); records past a window's end plus grace go to late)
          --> aggregate, late
        Processor: aggregate (reduce (sum) per (group, window instance, member) within the batch)
          --> apply
        Processor: apply (one fenced Lua script per partition batch: state, de-duplication, late records, dead letters, checkpoint, acknowledgement; marks the tops it may have changed)
          --> topK
        Processor: topK (merge each marked top (top 10, desc, ties by member) from the partitions; versioned snapshots {orders:snap:<group>}:<window>, announced)
          --> archive
        Sink: dead-letters (each partition's dead-letter stream {orders:p}:dlq)
          --> none
        Sink: late (each partition's late stream {orders:p}:late (side output))
          --> none
        Sink: archive (archives each window instance’s final top-K once it closes)
          --> none"
    `);
  });
});
