/**
 * The seasons example against a real redis-server, through the library's test driver: wins
 * counted per league and season (a custom window), ties ranked by who reached the count first,
 * a repeated match id counted once, and a match after the last season on the side output.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisUrl } from '../../test/support/redis.js';
import { type LateRecord, TopologyTestDriver } from '../../topology/index.js';
import { type Match, Seasons, seasonStandings } from './seasons.js';

const DAY = 86_400_000;
const SPRING = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const SUMMER = SPRING + DAY;
const END = SPRING + 4 * DAY;

describe('season standings: wins per league and season, ties to whoever got there first', () => {
  let redis: Redis;
  let driver: TopologyTestDriver<Match>;
  const late: LateRecord[] = [];
  beforeEach(async () => {
    redis = new Redis(redisUrl());
    driver = await TopologyTestDriver.start(
      seasonStandings(new Seasons([SPRING, SUMMER], END), (l) => late.push(l)),
      {
        redis,
        partitions: 2,
      },
    );
  });
  afterEach(async () => {
    await driver.close();
    await redis.quit();
  });

  const win = (matchId: string, winner: string, at: number, league = 'chess'): Match => ({
    matchId,
    league,
    winner,
    at,
  });

  it('counts wins per season and breaks ties by who reached the count first', async () => {
    await driver.pipe(
      win('m1', 'bob', SPRING + 10),
      win('m2', 'ann', SPRING + 20),
      win('m3', 'ann', SPRING + 30),
      win('m4', 'bob', SPRING + 40), // bob reaches 2 after ann did
      win('m4', 'bob', SPRING + 41), // a repeat of m4: counted once
      win('m5', 'cyd', SUMMER + 5),
      win('m6', 'dee', SUMMER + 5, 'go'),
    );
    await driver.process();

    expect(await driver.top('chess', 'season', SPRING + 1)).toEqual([
      { rank: 1, member: 'ann', score: 2 },
      { rank: 2, member: 'bob', score: 2 },
    ]);
    expect(await driver.top('chess', 'season', SUMMER + 1)).toEqual([{ rank: 1, member: 'cyd', score: 1 }]);
    expect(await driver.top('go', 'season', SUMMER + 1)).toEqual([{ rank: 1, member: 'dee', score: 1 }]);
    const spring = driver.store.windowAt('chess', 'season', SPRING + 1)!;
    expect(await driver.store.standing('chess', spring, 'bob')).toMatchObject({
      rank: 2,
      score: 2,
      total: 2,
    });
    expect(await driver.store.around('chess', spring, 'bob', 1)).toEqual([
      { rank: 1, member: 'ann', score: 2 },
      { rank: 2, member: 'bob', score: 2 },
    ]);
    const page = await driver.store.page('chess', spring, { limit: 1 });
    expect(page.entries).toEqual([{ rank: 1, member: 'ann', score: 2 }]);
    const rest = await driver.store.page('chess', spring, { limit: 5, after: page.next! });
    expect(rest).toEqual({ entries: [{ rank: 2, member: 'bob', score: 2 }], next: null });
  });

  it('dead-letters a match no season holds, and sets aside one whose season closed as late', async () => {
    await driver.pipe(win('m1', 'ann', END + 1), win('m0', 'ann', SPRING - 1));
    await driver.advanceStreamTime(END);
    await driver.pipe(win('m2', 'bob', SUMMER + 1));
    await driver.process();
    expect((await driver.deadLetters()).map((l) => l.reason).sort()).toEqual(
      [`no window of 'chess' holds time ${END + 1}`, `no window of 'chess' holds time ${SPRING - 1}`].sort(),
    );
    expect(late.map((l) => [l.record.member, l.window.start])).toEqual([['bob', SUMMER]]);
    expect(driver.late).toEqual(late);
    expect(await driver.top('chess', 'season', SPRING)).toEqual([]);
  });
});
