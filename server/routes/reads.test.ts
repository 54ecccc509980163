import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { call, expectError } from '../../test/server/httpSupport.js';
import { drained, scoreTable } from '../../test/support/leaderboardState.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';
import { windowDefinition } from '../../topology/windows/index.js';

const DAY = 86_400_000;
/** The instance of a UTC window (the board's zone) holding `at`: start and end. */
const windowFor = (window: 'all' | 'day', at: number) => windowDefinition(window).windowAt(at);

describe('read routes (app.request, in-process workers)', () => {
  let svc: TestService;
  const now = Date.now();
  beforeAll(async () => {
    svc = await startTestService({ workers: true });
    const board = { policy: 'sum', order: 'desc', windows: ['all', 'day'], topK: 3, graceSeconds: 86_400 };
    expect(
      (await call(svc.app, 'PUT', '/v1/boards/arena', { key: TEST_KEYS.admin, body: board })).status,
    ).toBe(201);
    // ann 10, bob 7, cat 7, dan 3, eve 1 (all window); yesterday only bob and eve scored.
    const events = [
      { board: 'arena', userId: 'ann', value: 10, ts: now },
      { board: 'arena', userId: 'bob', value: 4, ts: now - DAY },
      { board: 'arena', userId: 'bob', value: 3, ts: now },
      { board: 'arena', userId: 'cat', value: 7, ts: now },
      { board: 'arena', userId: 'dan', value: 3, ts: now },
      { board: 'arena', userId: 'eve', value: 1, ts: now - DAY },
    ];
    const res = await call(svc.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } });
    expect(res.status).toBe(202);
    await waitUntil(() => drained(svc.redis, svc.config.KEY_PREFIX, 'workers', svc.config.PARTITIONS));
    // Drained means every event is in the score tables; the snapshots follow on the next top-K
    // merge and reach the app's snapshot cache through the publish channel. Wait until the
    // served tops hold the tables' best scores (what they hold is asserted by the tests below).
    const caughtUp = async (window: 'all' | 'day', at: number): Promise<boolean> => {
      const table = await scoreTable(
        svc.redis,
        svc.config.KEY_PREFIX,
        svc.config.PARTITIONS,
        'arena',
        `${window}:${windowFor(window, at).start}`,
      );
      const best = Object.values(table)
        .sort((a, b) => b - a)
        .slice(0, 3);
      const top = (await (
        await call(svc.app, 'GET', `/v1/boards/arena/top?window=${window}&at=${at}`)
      ).json()) as {
        entries: { score: number }[];
      };
      return best.length > 0 && JSON.stringify(top.entries.map((e) => e.score)) === JSON.stringify(best);
    };
    await waitUntil(async () => (await caughtUp('all', now)) && (await caughtUp('day', now - DAY)));
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const get = (path: string, key?: string) => call(svc.app, 'GET', path, { key });

  describe('GET /v1/boards/:board/top', () => {
    it('answers the board top-K from the snapshot with competition ranks (ties share a rank)', async () => {
      const res = await get('/v1/boards/arena/top');
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ board: 'arena', window: 'all', windowStart: 0, windowEnd: null });
      expect(body.version).toBeGreaterThan(0);
      expect(body.updatedAt).toBeGreaterThan(now - 60_000);
      expect(body.entries).toEqual([
        { rank: 1, userId: 'ann', score: 10 },
        { rank: 2, userId: 'cat', score: 7 },
        { rank: 2, userId: 'bob', score: 7 },
      ]);
    });

    it('limits the entries with k', async () => {
      const body = (await (await get('/v1/boards/arena/top?k=1')).json()) as { entries: unknown[] };
      expect(body.entries).toEqual([{ rank: 1, userId: 'ann', score: 10 }]);
    });

    it('answers a past window picked with at', async () => {
      const at = now - DAY;
      const body = (await (await get(`/v1/boards/arena/top?window=day&at=${at}`)).json()) as Record<
        string,
        unknown
      >;
      expect(body).toMatchObject({
        window: 'day',
        windowStart: windowFor('day', at).start,
        windowEnd: windowFor('day', at).start + DAY,
      });
      expect(body.entries).toEqual([
        { rank: 1, userId: 'bob', score: 4 },
        { rank: 2, userId: 'eve', score: 1 },
      ]);
    });

    it('answers an empty top with version 0 for a window without scores', async () => {
      const at = now - 30 * DAY;
      const res = await get(`/v1/boards/arena/top?window=day&at=${at}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        version: 0,
        entries: [],
        windowStart: windowFor('day', at).start,
        windowEnd: windowFor('day', at).end,
      });
    });

    const bad: [string, string][] = [
      ['k=0', 'k=0'],
      ['k=1001', 'k=1001'],
      ['k not a number', 'k=ten'],
      ['k with a fraction', 'k=2.5'],
      ['window=year', 'window=year'],
      ['a window the board does not keep (week)', 'window=week'],
      ['at=-1', 'at=-1'],
      ['at not a number', 'at=yesterday'],
    ];
    for (const [what, query] of bad) {
      it(`answers 400 invalid-query for ${what}`, async () => {
        await expectError(await get(`/v1/boards/arena/top?${query}`), 400, 'invalid-query');
      });
    }

    it('names the parameter and its range in the message', async () => {
      const message = await expectError(await get('/v1/boards/arena/top?k=1001'), 400, 'invalid-query');
      expect(message).toContain('k');
      expect(message).toContain('1000');
    });

    it('answers 404 unknown-board for a board that does not exist', async () => {
      await expectError(await get('/v1/boards/nothing-here/top'), 404, 'unknown-board');
    });

    it('answers 401 for an unknown key even though reads are open', async () => {
      await expectError(await get('/v1/boards/arena/top', 'wrong-key'), 401, 'unauthorized');
    });

    it('answers with a read key too', async () => {
      expect((await get('/v1/boards/arena/top', TEST_KEYS.read)).status).toBe(200);
    });
  });

  describe('GET /v1/boards/:board/users/:userId', () => {
    it("answers a user's rank, score, total and percentile", async () => {
      const res = await get('/v1/boards/arena/users/ann');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ userId: 'ann', rank: 1, score: 10, total: 5, percentile: 100 });
    });

    it('gives tied users the same rank and the next user the rank after both', async () => {
      const bob = (await (await get('/v1/boards/arena/users/bob')).json()) as Record<string, number>;
      const cat = (await (await get('/v1/boards/arena/users/cat')).json()) as Record<string, number>;
      const dan = (await (await get('/v1/boards/arena/users/dan')).json()) as Record<string, number>;
      expect([bob.rank, cat.rank, dan.rank]).toEqual([2, 2, 4]);
      expect(bob.percentile).toBe(cat.percentile);
      expect(dan.percentile).toBeLessThan(bob.percentile!);
    });

    it('answers the standing in a day window', async () => {
      const res = await get(`/v1/boards/arena/users/eve?window=day&at=${now - DAY}`);
      expect(await res.json()).toMatchObject({ userId: 'eve', rank: 2, score: 1, total: 2 });
    });

    it('answers 404 unknown-user when the user has no score in the window', async () => {
      await expectError(await get('/v1/boards/arena/users/nobody'), 404, 'unknown-user');
      await expectError(await get('/v1/boards/arena/users/eve?window=day'), 404, 'unknown-user');
    });

    it('answers 400 invalid-user-id for a userId of 129 characters', async () => {
      await expectError(await get(`/v1/boards/arena/users/${'u'.repeat(129)}`), 400, 'invalid-user-id');
    });

    it('answers 400 invalid-user-id for a userId with a control character', async () => {
      await expectError(await get('/v1/boards/arena/users/a%07b'), 400, 'invalid-user-id');
      await expectError(await get('/v1/boards/arena/users/a%00b'), 400, 'invalid-user-id');
    });

    it('answers 404 for an unknown board and 400 for window=year', async () => {
      await expectError(await get('/v1/boards/nope/users/ann'), 404, 'unknown-board');
      await expectError(await get('/v1/boards/arena/users/ann?window=year'), 400, 'invalid-query');
    });
  });

  describe('GET /v1/boards/:board/users/:userId/around', () => {
    it('answers the user and up to n entries above and below, in rank order', async () => {
      const res = await get('/v1/boards/arena/users/bob/around?n=1');
      expect(res.status).toBe(200);
      expect(((await res.json()) as { entries: unknown }).entries).toEqual([
        { rank: 2, userId: 'cat', score: 7 },
        { rank: 2, userId: 'bob', score: 7 },
        { rank: 4, userId: 'dan', score: 3 },
      ]);
    });

    it('stops at the ends of the board', async () => {
      const body = (await (await get('/v1/boards/arena/users/ann/around?n=2')).json()) as {
        entries: unknown;
      };
      expect(body.entries).toEqual([
        { rank: 1, userId: 'ann', score: 10 },
        { rank: 2, userId: 'cat', score: 7 },
        { rank: 2, userId: 'bob', score: 7 },
      ]);
    });

    for (const [what, query] of [
      ['n=0', 'n=0'],
      ['n=101', 'n=101'],
      ['n not a number', 'n=some'],
    ] as const) {
      it(`answers 400 invalid-query for ${what}`, async () => {
        await expectError(await get(`/v1/boards/arena/users/ann/around?${query}`), 400, 'invalid-query');
      });
    }

    it('answers 404 unknown-user for a user without a score', async () => {
      await expectError(await get('/v1/boards/arena/users/nobody/around'), 404, 'unknown-user');
    });
  });

  describe('GET /v1/boards/:board/users/:userId/friends', () => {
    it('answers the user alone when they have no friends list', async () => {
      const body = (await (await get('/v1/boards/arena/users/dan/friends')).json()) as { entries: unknown };
      expect(body.entries).toEqual([{ rank: 1, userId: 'dan', score: 3 }]);
    });

    it('ranks the user among their friends after PUT friends', async () => {
      const put = await call(svc.app, 'PUT', '/v1/users/dan/friends', {
        key: TEST_KEYS.ingest,
        body: { friends: ['cat', 'eve', 'stranger'] },
      });
      expect(put.status).toBe(200);
      const body = (await (await get('/v1/boards/arena/users/dan/friends')).json()) as { entries: unknown };
      expect(body.entries).toEqual([
        { rank: 1, userId: 'cat', score: 7 },
        { rank: 2, userId: 'dan', score: 3 },
        { rank: 3, userId: 'eve', score: 1 },
      ]);
    });

    it('answers 400 for k=0 and k=1001', async () => {
      await expectError(await get('/v1/boards/arena/users/dan/friends?k=0'), 400, 'invalid-query');
      await expectError(await get('/v1/boards/arena/users/dan/friends?k=1001'), 400, 'invalid-query');
    });

    it('answers 404 for an unknown board', async () => {
      await expectError(await get('/v1/boards/nope/users/dan/friends'), 404, 'unknown-board');
    });
  });

  it('answers 405 for POST on a read route', async () => {
    const res = await call(svc.app, 'POST', '/v1/boards/arena/top', { key: TEST_KEYS.admin, body: {} });
    await expectError(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toContain('GET');
  });
});
