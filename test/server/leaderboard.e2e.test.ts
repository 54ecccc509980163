/**
 * End to end: a listening server, in-process workers and the test run's redis-server. Random events
 * go in over HTTP (single and batch endpoints); once the streams are drained, every read answers
 * what the reference model says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowKey } from '../../operators/stateKeys.js';
import { LeaderboardModel, type ModelEvent } from '../support/leaderboardModel.js';
import { uniqueName } from '../support/redis.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { type E2eClient, type Entry, e2eClient, encode, plain, seededRandom, userIds } from './e2eSupport.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('the leaderboard service end to end (real server, workers and redis-server)', () => {
  let svc: TestService;
  let base: string;
  let e2e: E2eClient;
  beforeAll(async () => {
    svc = await startTestService({ workers: true });
    base = await svc.listen();
    e2e = e2eClient(svc, base);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('a sum board: top-K, rank, score, total and around equal the model in the all and day windows, ties included', async () => {
    const seed = Date.now() % 1_000_000;
    const rnd = seededRandom(seed);
    const board = await e2e.createBoard({
      policy: 'sum',
      order: 'desc',
      windows: ['all', 'day'],
      topK: 5,
      graceSeconds: 7 * 86_400,
      retentionDays: 30,
    });
    const people = userIds(uniqueName('s'), 17);
    const now = Date.now();
    const events: ModelEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const yesterday = rnd.next() < 0.35;
      const event: ModelEvent = {
        board: board.id,
        userId: people[rnd.int(0, people.length - 1)]!,
        value: rnd.int(-1, 3),
        ts: (yesterday ? now - DAY : now) - rnd.int(0, 2 * HOUR),
      };
      if (rnd.next() < 0.1) event.eventId = `e${rnd.int(0, 15)}`; // repeats are counted once
      events.push(event);
    }
    const model = new LeaderboardModel(new Map([[board.id, board]]), svc.config.PARTITIONS);
    model.apply(events);
    await e2e.ingest(events, rnd);
    await e2e.waitDrained();

    await e2e.expectReadsMatchModel(model, board, 'all', now, seed);
    await e2e.expectReadsMatchModel(model, board, 'day', now, seed);
    await e2e.expectReadsMatchModel(model, board, 'day', now - DAY, seed);
    const allRanked = model.ranked(board.id, windowKey('all', 0), 'desc');
    const tied = allRanked.some((e, i) => i > 0 && allRanked[i - 1]!.score === e.score);
    expect(tied, `seed ${seed}: the events produced ties`).toBe(true);
  });

  it('a max asc board: lower is better, equal scores share a rank and are listed by user id ascending', async () => {
    const seed = (Date.now() + 7) % 1_000_000;
    const rnd = seededRandom(seed);
    const board = await e2e.createBoard({
      policy: 'max',
      order: 'asc',
      windows: ['all', 'day'],
      topK: 5,
      graceSeconds: 7 * 86_400,
      retentionDays: 30,
    });
    const people = userIds(uniqueName('m'), 20);
    const now = Date.now();
    const events: ModelEvent[] = Array.from({ length: 250 }, () => ({
      board: board.id,
      userId: people[rnd.int(0, people.length - 1)]!,
      value: rnd.int(1, 6),
      ts: now - rnd.int(0, HOUR),
    }));
    const model = new LeaderboardModel(new Map([[board.id, board]]), svc.config.PARTITIONS);
    model.apply(events);
    await e2e.ingest(events, rnd);
    await e2e.waitDrained();

    await e2e.expectReadsMatchModel(model, board, 'all', now, seed);
    await e2e.expectReadsMatchModel(model, board, 'day', now, seed);
    const top = await e2e.getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/top?window=all&k=3`);
    const ranked = model.ranked(board.id, windowKey('all', 0), 'asc');
    expect(plain(top.entries)).toEqual(ranked.slice(0, 3));
    expect(ranked.some((e, i) => i > 0 && ranked[i - 1]!.rank === e.rank)).toBe(true);
  });

  it('ranks a user among their friends (after PUT friends), with competition ranks among themselves', async () => {
    const seed = (Date.now() + 13) % 1_000_000;
    const rnd = seededRandom(seed);
    const board = await e2e.createBoard({
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 5,
      graceSeconds: 300,
      retentionDays: 30,
    });
    const people = userIds(uniqueName('f'), 12);
    const events: ModelEvent[] = Array.from({ length: 150 }, () => ({
      board: board.id,
      userId: people[rnd.int(0, people.length - 1)]!,
      value: rnd.int(1, 3),
      ts: Date.now(),
    }));
    const model = new LeaderboardModel(new Map([[board.id, board]]), svc.config.PARTITIONS);
    model.apply(events);
    const me = people[0]!;
    const friends = [people[3]!, people[5]!, people[8]!, people[13]!, people[14]!, `${me}-no-score`];
    const put = await e2e.request('PUT', `/v1/users/${encode(me)}/friends`, { friends }, TEST_KEYS.ingest);
    expect(put.status).toBe(200);
    await e2e.ingest(events, rnd);
    await e2e.waitDrained();

    const key = windowKey('all', 0);
    const expected = model.rankAmong(board.id, key, [me, ...friends]);
    expect(expected.length).toBeGreaterThan(2);
    const res = await e2e.getJson<{ entries: Entry[] }>(
      `/v1/boards/${board.id}/users/${encode(me)}/friends?window=all`,
    );
    expect(plain(res.entries), `seed ${seed}`).toEqual(expected);
    const limited = await e2e.getJson<{ entries: Entry[] }>(
      `/v1/boards/${board.id}/users/${encode(me)}/friends?window=all&k=2`,
    );
    expect(plain(limited.entries)).toEqual(expected.slice(0, 2));

    // A new friend list replaces the old one.
    const replaced = [people[1]!];
    expect(
      (await e2e.request('PUT', `/v1/users/${encode(me)}/friends`, { friends: replaced }, TEST_KEYS.ingest))
        .status,
    ).toBe(200);
    const after = await e2e.getJson<{ entries: Entry[] }>(
      `/v1/boards/${board.id}/users/${encode(me)}/friends?window=all`,
    );
    expect(plain(after.entries)).toEqual(model.rankAmong(board.id, key, [me, ...replaced]));
  });

  it('attaches profiles to the entries of top, around and friends after PUT profile', async () => {
    const board = await e2e.createBoard({
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 5,
      graceSeconds: 300,
      retentionDays: 30,
    });
    const label = uniqueName('p');
    const [ann, bob, cat] = [`${label}-ann`, `${label}-bob`, `${label}-cat`];
    const events = [
      { board: board.id, userId: ann, value: 30 },
      { board: board.id, userId: bob, value: 20 },
      { board: board.id, userId: cat, value: 10 },
    ];
    const profileAnn = await e2e.request(
      'PUT',
      `/v1/users/${ann}/profile`,
      {
        name: 'Ann Example',
        avatarUrl: 'https://example.com/ann.png',
      },
      TEST_KEYS.ingest,
    );
    expect(profileAnn.status).toBe(200);
    expect(
      (await e2e.request('PUT', `/v1/users/${cat}/profile`, { name: 'Cat' }, TEST_KEYS.ingest)).status,
    ).toBe(200);
    expect(
      (await e2e.request('PUT', `/v1/users/${ann}/friends`, { friends: [bob, cat] }, TEST_KEYS.ingest))
        .status,
    ).toBe(200);
    expect(await e2e.request('POST', '/v1/events', { events }, TEST_KEYS.ingest)).toEqual({
      status: 202,
      body: { accepted: 3 },
    });
    await e2e.waitDrained();

    const expected: Entry[] = [
      {
        rank: 1,
        userId: ann,
        score: 30,
        profile: { name: 'Ann Example', avatarUrl: 'https://example.com/ann.png' },
      },
      { rank: 2, userId: bob, score: 20 },
      { rank: 3, userId: cat, score: 10, profile: { name: 'Cat', avatarUrl: null } },
    ];
    await e2e.eventually(
      async () => (await e2e.getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/top`)).entries,
      expected,
      'top with profiles',
    );
    const around = await e2e.getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/users/${bob}/around?n=2`);
    expect(around.entries).toEqual(expected);
    const friends = await e2e.getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/users/${ann}/friends`);
    expect(friends.entries).toEqual(expected);

    // A changed profile shows up on the next read (the cache is invalidated).
    expect(
      (await e2e.request('PUT', `/v1/users/${cat}/profile`, { name: 'Cat 2' }, TEST_KEYS.ingest)).status,
    ).toBe(200);
    const again = await e2e.getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/users/${ann}/friends`);
    expect(again.entries[2]).toEqual({
      rank: 3,
      userId: cat,
      score: 10,
      profile: { name: 'Cat 2', avatarUrl: null },
    });
    // The top's serialized body (reused while its snapshot is unchanged) is rebuilt too.
    const res = await fetch(`${base}/v1/boards/${board.id}/top`);
    expect(res.headers.get('content-type')).toBe('application/json');
    const top = (await res.json()) as { entries: Entry[] };
    expect(top.entries[2]).toEqual(again.entries[2]);
  });

  it('counts an event repeated with the same eventId once', async () => {
    const board = await e2e.createBoard({
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 5,
      graceSeconds: 300,
      retentionDays: 30,
    });
    const user = uniqueName('dup');
    const event = { userId: user, value: 7, eventId: 'once' };
    for (let i = 0; i < 3; i++) {
      expect(await e2e.request('POST', `/v1/boards/${board.id}/events`, event, TEST_KEYS.ingest)).toEqual({
        status: 202,
        body: { accepted: 1 },
      });
    }
    expect(
      await e2e.request('POST', '/v1/events', { events: [{ board: board.id, ...event }] }, TEST_KEYS.ingest),
    ).toEqual({ status: 202, body: { accepted: 1 } });
    await e2e.waitDrained();
    const standing = await e2e.getJson<Record<string, unknown>>(`/v1/boards/${board.id}/users/${user}`);
    expect(standing).toMatchObject({ userId: user, score: 7, rank: 1, total: 1 });
  });

  it('live: the SSE stream sends the top at once, then a top with a higher version after new events', async () => {
    const board = await e2e.createBoard({
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 5,
      graceSeconds: 300,
      retentionDays: 30,
    });
    const label = uniqueName('l');
    expect(
      await e2e.request(
        'POST',
        '/v1/events',
        { events: [{ board: board.id, userId: `${label}-a`, value: 1 }] },
        TEST_KEYS.ingest,
      ),
    ).toEqual({ status: 202, body: { accepted: 1 } });
    await e2e.waitDrained();
    await e2e.eventually(
      async () => (await e2e.getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/top`)).entries.length,
      1,
      'the first snapshot',
    );

    const live = await e2e.openLive(`/v1/boards/${board.id}/live?window=all`);
    const nextTop = live.nextTop;
    try {
      const first = await nextTop();
      expect(first.data).toMatchObject({ board: board.id, window: 'all', windowStart: 0, windowEnd: null });
      expect(plain(first.data.entries as Entry[])).toEqual([{ rank: 1, userId: `${label}-a`, score: 1 }]);
      const firstVersion = first.data.version as number;
      expect(firstVersion).toBeGreaterThan(0);
      expect(first.id).toBe(String(firstVersion));

      const more = [
        { board: board.id, userId: `${label}-b`, value: 5 },
        { board: board.id, userId: `${label}-c`, value: 3 },
      ];
      expect(await e2e.request('POST', '/v1/events', { events: more }, TEST_KEYS.ingest)).toEqual({
        status: 202,
        body: { accepted: 2 },
      });
      let update = await nextTop();
      while ((update.data.entries as Entry[]).length < 3) update = await nextTop();
      expect(update.data.version as number).toBeGreaterThan(firstVersion);
      expect(plain(update.data.entries as Entry[])).toEqual([
        { rank: 1, userId: `${label}-b`, score: 5 },
        { rank: 2, userId: `${label}-c`, score: 3 },
        { rank: 3, userId: `${label}-a`, score: 1 },
      ]);
      expect(update.data).toEqual(await e2e.getJson(`/v1/boards/${board.id}/top?window=all`));
    } finally {
      live.close();
    }
  });

  it('is ready (Redis, the store and the workers) and counts accepted events in /metrics', async () => {
    const event = { userId: uniqueName('metrics'), value: 1 };
    expect((await e2e.request('POST', '/v1/boards/global/events', event, TEST_KEYS.ingest)).status).toBe(202);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { redis: true, database: true, workers: true },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const accepted = Number(/^lb_ingest_events_total (\d+)/m.exec(metrics)?.[1]);
    expect(accepted).toBeGreaterThan(0);
  });
});
