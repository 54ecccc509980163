/**
 * End to end, hiding players (issue 13), through a listening server and in-process workers: a
 * hidden user vanishes from every read of the board (top, rank, totals, percentiles, around,
 * friends, entries) while their events keep counting, and showing them again restores them at
 * their current score, on both tie rules; the hidden list; the admin scope; bad input; and a
 * window instance that closed (and was archived) before the user was hidden.
 */
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import type { BoardConfig } from '../../leaderboard/index.js';
import { closingMember, stateKeys } from '../../operators/stateKeys.js';
import { LeaderboardModel, type ModelEvent, modelWindow } from '../support/leaderboardModel.js';
import { uniqueName } from '../support/redis.js';
import { startTestService, TEST_KEYS } from '../support/service.js';
import {
  type E2eClient,
  type EntriesPage,
  type Entry,
  e2eClient,
  encode,
  plain,
  populatedWindows,
  seededRandom,
  userIds,
  withE2eService,
} from './e2eSupport.js';

const DAY = 86_400_000;
const SMALL_BOARD: Omit<BoardConfig, 'id'> = {
  policy: 'sum',
  order: 'desc',
  windows: ['all'],
  topK: 3,
  graceSeconds: 300,
  retentionDays: 30,
};

describe('hidden users, end to end (real server, workers and redis-server)', () => {
  let base: string;
  let e2e: E2eClient;
  let partitions: number;
  withE2eService((svc, client, url) => {
    partitions = svc.config.PARTITIONS;
    e2e = client;
    base = url;
  });

  const hide = async (board: string, userId: string, hidden: boolean) => {
    const res = await e2e.request(hidden ? 'PUT' : 'DELETE', `/v1/boards/${board}/hidden/${encode(userId)}`);
    expect(res).toEqual({ status: 200, body: { userId, hidden } });
  };

  it('leaves hidden users out of every read while their events keep counting, and shows them again at their current score, on both tie rules', async () => {
    const seed = Date.now() % 1_000_000;
    const rnd = seededRandom(seed);
    const config = (
      policy: BoardConfig['policy'],
      order: BoardConfig['order'],
      tieBreak: 'shared' | 'first',
    ) => ({
      policy,
      order,
      windows: ['all', 'day'],
      topK: 4,
      graceSeconds: 7 * 86_400,
      retentionDays: 30,
      tieBreak,
    });
    const boards = [
      await e2e.createBoard(config('sum', 'desc', 'shared')),
      await e2e.createBoard(config('max', 'asc', 'first')),
    ];
    const model = new LeaderboardModel(new Map(boards.map((b) => [b.id, b])), partitions);
    const people = userIds(uniqueName('h'), 16);
    const now = Date.now();
    const round = (count: number) =>
      Array.from(
        { length: count },
        (): ModelEvent => ({
          board: boards[rnd.int(0, 1)]!.id,
          userId: people[rnd.int(0, people.length - 1)]!,
          value: rnd.int(1, 5),
          ts: (rnd.next() < 0.3 ? now - DAY : now) - rnd.int(0, 60) * 1000,
        }),
      );
    const send = async (events: ModelEvent[]) => {
      model.apply(events);
      await e2e.ingest(events, rnd);
      await e2e.waitDrained();
    };
    const expectAllReads = async () => {
      for (const board of boards) {
        await e2e.expectWindowsMatchModel(model, board, populatedWindows(model, board), seed);
        // A hidden user's own friends ranking leaves them out; a visible user's leaves out hidden friends.
        for (const me of [people[0]!, people[16]!]) {
          const friends = people.filter((u) => u !== me).slice(0, 10);
          const put = await e2e.request(
            'PUT',
            `/v1/users/${encode(me)}/friends`,
            { friends },
            TEST_KEYS.ingest,
          );
          expect(put.status).toBe(200);
          await e2e.expectFriendsMatchModel(model, board, 'all', now, me, friends);
        }
      }
    };
    await send(round(300));

    // Hide the leader, someone in the middle and the user whose friends are read, on each board.
    const hidden = new Map<string, string[]>();
    for (const board of boards) {
      const ranked = model.ranked(board.id, 'all:0');
      const chosen = [ranked[0]!.userId, ranked[Math.floor(ranked.length / 2)]!.userId, people[0]!];
      hidden.set(board.id, [...new Set(chosen)]);
      for (const userId of hidden.get(board.id)!) {
        await hide(board.id, userId, true);
        model.hide(board.id, userId);
      }
      // Hiding twice changes nothing.
      await hide(board.id, chosen[0]!, true);
      const list = await e2e.request('GET', `/v1/boards/${board.id}/hidden`);
      expect(list).toEqual({
        status: 200,
        body: { board: board.id, users: [...hidden.get(board.id)!].sort() },
      });
    }
    await expectAllReads();
    // The live stream sends the same top, without them.
    for (const board of boards) {
      const live = await e2e.openLive(`/v1/boards/${board.id}/live?window=all`);
      try {
        const first = await live.nextTop();
        expect(plain(first.data.entries as Entry[])).toEqual(
          model.ranked(board.id, 'all:0').slice(0, board.topK),
        );
      } finally {
        live.close();
      }
    }
    const totalOf = async (board: string, userId: string) =>
      (await e2e.getJson<{ total: number }>(`/v1/boards/${board}/users/${encode(userId)}`)).total;
    const visible = model.ranked(boards[0]!.id, 'all:0')[0]!.userId;
    expect(await totalOf(boards[0]!.id, visible)).toBe(
      model.users(boards[0]!.id, 'all:0').size - hidden.get(boards[0]!.id)!.length,
    );

    // Their events keep counting while hidden, and others' do too.
    const more = round(200);
    for (const board of boards) {
      for (const userId of hidden.get(board.id)!)
        more.push({ board: board.id, userId, value: 1, ts: now - 1000 });
    }
    await send(more);
    await expectAllReads();

    // Shown again: back at the score their events made, hidden or not.
    for (const board of boards) {
      // Everyone but the user whose friends are read (who may be the leader too).
      const shown = hidden.get(board.id)!.filter((u) => u !== people[0]);
      expect(shown.length).toBeGreaterThan(0);
      for (const userId of shown) {
        await hide(board.id, userId, false);
        model.show(board.id, userId);
      }
      await hide(board.id, shown[0]!, false);
      expect((await e2e.request('GET', `/v1/boards/${board.id}/hidden`)).body.users).toEqual([people[0]!]);
      const standing = await e2e.getJson(`/v1/boards/${board.id}/users/${encode(shown[0]!)}`);
      expect(standing).toEqual(model.standing(board.id, 'all:0', shown[0]!));
    }
    await expectAllReads();
  });

  it('hides a user who has no score yet: their first events never show', async () => {
    const board = await e2e.createBoard(SMALL_BOARD);
    const label = uniqueName('n');
    await hide(board.id, `${label}-new`, true);
    const events = [`${label}-a`, `${label}-new`, `${label}-b`].map((userId, i) => ({
      board: board.id,
      userId,
      value: 10 - i,
      ts: Date.now(),
    }));
    expect(await e2e.request('POST', '/v1/events', { events }, TEST_KEYS.ingest)).toEqual({
      status: 202,
      body: { accepted: 3 },
    });
    await e2e.waitDrained();
    const expected = [
      { rank: 1, userId: `${label}-a`, score: 10 },
      { rank: 2, userId: `${label}-b`, score: 8 },
    ];
    await e2e.eventually(
      async () => plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/top`)).entries),
      expected,
      'the top',
    );
    expect(plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/entries`)).entries)).toEqual(
      expected,
    );
    expect((await e2e.get(`/v1/boards/${board.id}/users/${label}-new`)).status).toBe(404);
    await hide(board.id, `${label}-new`, false);
    await e2e.eventually(
      async () => plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/top`)).entries),
      [
        expected[0]!,
        { rank: 2, userId: `${label}-new`, score: 9 },
        { rank: 3, userId: `${label}-b`, score: 8 },
      ],
      'the top with the user shown',
    );
  });

  it('needs the admin scope (403 with a read or ingest key, 401 without one), a known board (404) and a valid user id (400)', async () => {
    const board = await e2e.createBoard(SMALL_BOARD);
    const path = `/v1/boards/${board.id}/hidden/someone`;
    for (const [method, route] of [
      ['PUT', path],
      ['DELETE', path],
      ['GET', `/v1/boards/${board.id}/hidden`],
    ] as const) {
      for (const key of [TEST_KEYS.read, TEST_KEYS.ingest]) {
        const res = await e2e.request(method, route, undefined, key);
        expect(res.status, `${method} ${route} with ${key}`).toBe(403);
        expect((res.body.error as { code: string }).code).toBe('forbidden');
      }
      const anonymous = await fetch(`${base}${route}`, { method });
      expect(anonymous.status, `${method} ${route} without a key`).toBe(401);
      const unknown = await e2e.request(method, route.replace(board.id, uniqueName('none')));
      expect(unknown.status, `${method} on an unknown board`).toBe(404);
      expect((unknown.body.error as { code: string }).code).toBe('unknown-board');
    }
    expect((await e2e.request('GET', `/v1/boards/${board.id}/hidden`)).body).toEqual({
      board: board.id,
      users: [],
    });
    for (const bad of ['a%07b', 'x'.repeat(129), '%E2%80%8Bzero-width']) {
      const res = await e2e.request('PUT', `/v1/boards/${board.id}/hidden/${bad}`);
      expect(res.status, bad).toBe(400);
      expect((res.body.error as { code: string }).code).toBe('invalid-user-id');
    }
    expect((await e2e.request('GET', `/v1/boards/${board.id}/hidden`)).body).toEqual({
      board: board.id,
      users: [],
    });
  });

  it('leaves a user hidden after their window closed out of that window too', async () => {
    // A service of its own: its partitions have seen only yesterday, so yesterday's events count.
    const own = await startTestService({ workers: true, env: { ANONYMOUS_RATE_LIMIT_RPS: '0' } });
    try {
      const client = e2eClient(own, await own.listen());
      const board = await client.createBoard({
        policy: 'sum',
        order: 'desc',
        windows: ['all', 'day'],
        topK: 3,
        graceSeconds: 0,
        retentionDays: 30,
      });
      const yesterday = Date.now() - DAY;
      const instance = modelWindow(board, 'day', yesterday);
      const label = uniqueName('c');
      const events: ModelEvent[] = Array.from({ length: 6 }, (_, i) => ({
        board: board.id,
        userId: `${label}-${i}`,
        value: 10 + i,
        ts: instance.end - 1000 * (i + 1),
      }));
      const model = new LeaderboardModel(new Map([[board.id, board]]), own.config.PARTITIONS);
      model.apply(events);
      expect(model.late).toEqual([]);
      await client.ingest(events, seededRandom(1));
      await client.waitDrained();
      // The window closed at its end (no grace): wait until the workers archived it.
      const member = closingMember(board.id, instance.key);
      await waitUntil(
        async () => {
          for (let p = 0; p < own.config.PARTITIONS; p++) {
            if ((await own.redis.zscore(stateKeys(own.config.KEY_PREFIX, p).closing, member)) !== null)
              return false;
          }
          return true;
        },
        30_000,
        'the closed day to be archived',
      );
      const leader = `${label}-5`;
      const res = await client.request('PUT', `/v1/boards/${board.id}/hidden/${leader}`);
      expect(res.status).toBe(200);
      model.hide(board.id, leader);
      const query = `window=day&at=${yesterday}`;
      expect((await client.get(`/v1/boards/${board.id}/users/${leader}?${query}`)).status).toBe(404);
      expect(
        plain((await client.getJson<EntriesPage>(`/v1/boards/${board.id}/entries?${query}`)).entries),
      ).toEqual(model.ranked(board.id, instance.key));
      await client.eventually(
        async () => plain((await client.getJson<EntriesPage>(`/v1/boards/${board.id}/top?${query}`)).entries),
        model.ranked(board.id, instance.key).slice(0, 3),
        'the top of the closed day',
      );
      // And shown again there.
      await client.request('DELETE', `/v1/boards/${board.id}/hidden/${leader}`);
      model.show(board.id, leader);
      expect(await client.getJson(`/v1/boards/${board.id}/users/${leader}?${query}`)).toEqual(
        model.standing(board.id, instance.key, leader),
      );
    } finally {
      await own.stop();
    }
  });
});
