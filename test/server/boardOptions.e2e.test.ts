/**
 * End to end, the board options of issue 13 as a whole, through listening servers and in-process
 * workers: value bounds (400 value-out-of-range naming the bound, and the index in a batch, with
 * nothing of the request enqueued, on the single-event fast path and through the Hono app; bounds
 * changed later never rewrite accepted scores), every option refused with a 400 naming its field
 * when it is wrong, 409 when a fixed option changes, and every option surviving a restart (a new
 * service on the same Redis and store, also after Redis lost the boards) and a replay (through the
 * `leaderboard replay` command) with every read still equal to the reference model.
 */
import { PassThrough } from 'node:stream';
import { partitionTag } from 'redis-streams-consumer-groups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BoardConfig, type Database, openDatabase, replayBoard } from '../../leaderboard/index.js';
import { boardsChangesKey, boardsKey, boardsMetaKey } from '../../leaderboard/keys.js';
import { snapshotKey, snapshotKeyPrefix } from '../../operators/stateKeys.js';
import { replayCommand } from '../../server/commands/replay.js';
import { LeaderboardModel, type ModelEvent } from '../support/leaderboardModel.js';
import { connect, uniqueName } from '../support/redis.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import {
  type E2eClient,
  type EntriesPage,
  e2eClient,
  plain,
  populatedWindows,
  seededRandom,
} from './e2eSupport.js';
import { streamLengths } from './httpSupport.js';

const DAY = 86_400_000;
const READS = { ANONYMOUS_RATE_LIMIT_RPS: '0' };

const errorOf = (body: Record<string, unknown>) => body.error as { code: string; message: string };

describe('board options end to end (real servers, workers and redis-server)', () => {
  let db: Database;
  let svc: TestService;
  let base: string;
  let e2e: E2eClient;
  let hono: E2eClient;
  beforeAll(async () => {
    db = await openDatabase({});
    svc = await startTestService({ workers: true, db, env: READS });
    base = await svc.listen();
    e2e = e2eClient(svc, base);
    hono = e2eClient(svc, await svc.listen({ honoOnly: true }));
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.close();
  });

  const bounded = (
    bounds: Pick<BoardConfig, 'minValue' | 'maxValue'>,
    policy: BoardConfig['policy'] = 'sum',
  ) => ({
    policy,
    order: 'desc' as const,
    windows: ['all'],
    topK: 5,
    graceSeconds: 300,
    retentionDays: 30,
    ...bounds,
  });

  describe('value bounds', () => {
    it('refuses a single event out of bounds with 400 value-out-of-range naming the bound, on the fast path and through the app, enqueuing nothing; the bounds themselves are accepted', async () => {
      const board = await e2e.createBoard(bounded({ minValue: -5, maxValue: 100 }));
      expect(board).toMatchObject({ minValue: -5, maxValue: 100 });
      const user = uniqueName('v');
      for (const client of [e2e, hono]) {
        for (const [value, bound] of [
          [100.5, /maxValue 100/],
          [1e9, /maxValue 100/],
          [-5.001, /minValue -5/],
        ] as const) {
          const before = await streamLengths(svc.services);
          const res = await client.request(
            'POST',
            `/v1/boards/${board.id}/events`,
            { userId: user, value },
            TEST_KEYS.ingest,
          );
          expect(res.status, `value ${value}`).toBe(400);
          expect(errorOf(res.body).code).toBe('value-out-of-range');
          expect(errorOf(res.body).message).toMatch(bound);
          expect(errorOf(res.body).message).toContain(String(value));
          expect(await streamLengths(svc.services)).toEqual(before);
        }
        for (const value of [100, -5, 0]) {
          const res = await client.request(
            'POST',
            `/v1/boards/${board.id}/events`,
            { userId: user, value },
            TEST_KEYS.ingest,
          );
          expect(res, `value ${value}`).toEqual({ status: 202, body: { accepted: 1 } });
        }
      }
      await e2e.waitDrained();
      expect(await e2e.getJson(`/v1/boards/${board.id}/users/${user}`)).toMatchObject({ score: 190 });
    });

    it('refuses a batch with one event out of its board’s bounds with 400 naming the index and the bound, enqueuing nothing of it', async () => {
      const low = await e2e.createBoard(bounded({ maxValue: 10 }));
      const high = await e2e.createBoard(bounded({ minValue: 50 }, 'max'));
      const user = uniqueName('w');
      const events = [
        { board: low.id, userId: user, value: 10 },
        { board: high.id, userId: user, value: 60 },
        { board: low.id, userId: `${user}x`, value: -1000 },
        { board: high.id, userId: `${user}x`, value: 49 },
        { board: low.id, userId: user, value: 11 },
      ];
      const before = await streamLengths(svc.services);
      const res = await e2e.request('POST', '/v1/events', { events }, TEST_KEYS.ingest);
      expect(res.status).toBe(400);
      expect(errorOf(res.body)).toEqual({
        code: 'value-out-of-range',
        message: expect.stringMatching(/^event 3 is invalid: events\[3\]\.value: .*49.*minValue 50/),
      });
      const last = await e2e.request(
        'POST',
        '/v1/events',
        { events: [events[0], events[4]] },
        TEST_KEYS.ingest,
      );
      expect(errorOf(last.body).message).toMatch(
        /^event 1 is invalid: events\[1\]\.value: .*11.*maxValue 10/,
      );
      expect(await streamLengths(svc.services)).toEqual(before);
      const ok = await e2e.request('POST', '/v1/events', { events: events.slice(0, 3) }, TEST_KEYS.ingest);
      expect(ok).toEqual({ status: 202, body: { accepted: 3 } });
      await e2e.waitDrained();
      expect(await e2e.getJson(`/v1/boards/${high.id}/users/${user}`)).toMatchObject({ score: 60 });
    });

    it('never rewrites accepted scores when the bounds change, and judges new events by the new bounds', async () => {
      const config = bounded({ minValue: 0, maxValue: 100 });
      const board = await e2e.createBoard(config);
      const label = uniqueName('r');
      const events = [90, 100, 40].map((value, i) => ({ board: board.id, userId: `${label}-${i}`, value }));
      expect((await e2e.request('POST', '/v1/events', { events }, TEST_KEYS.ingest)).status).toBe(202);
      await e2e.waitDrained();
      const ranking = [
        { rank: 1, userId: `${label}-1`, score: 100 },
        { rank: 2, userId: `${label}-0`, score: 90 },
        { rank: 3, userId: `${label}-2`, score: 40 },
      ];
      await e2e.eventually(
        async () => plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/top`)).entries),
        ranking,
        'top',
      );

      const narrowed = await e2e.request('PUT', `/v1/boards/${board.id}`, {
        ...config,
        minValue: 10,
        maxValue: 50,
      });
      expect(narrowed).toMatchObject({ status: 200, body: { minValue: 10, maxValue: 50 } });
      expect(plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/entries`)).entries)).toEqual(
        ranking,
      );
      expect(plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/top`)).entries)).toEqual(ranking);
      const refused = await e2e.request(
        'POST',
        `/v1/boards/${board.id}/events`,
        { userId: `${label}-2`, value: 60 },
        TEST_KEYS.ingest,
      );
      expect(errorOf(refused.body)).toMatchObject({
        code: 'value-out-of-range',
        message: expect.stringMatching(/maxValue 50/),
      });
      const five = await e2e.request(
        'POST',
        `/v1/boards/${board.id}/events`,
        { userId: `${label}-2`, value: 5 },
        TEST_KEYS.ingest,
      );
      expect(errorOf(five.body).message).toMatch(/minValue 10/);

      // Without bounds, anything finite goes.
      const { minValue: _min, maxValue: _max, ...unbounded } = config;
      const opened = await e2e.request('PUT', `/v1/boards/${board.id}`, unbounded);
      expect(opened.status).toBe(200);
      expect(opened.body).not.toHaveProperty('maxValue');
      expect(
        await e2e.request(
          'POST',
          `/v1/boards/${board.id}/events`,
          { userId: `${label}-2`, value: 1e6 },
          TEST_KEYS.ingest,
        ),
      ).toEqual({ status: 202, body: { accepted: 1 } });
      await e2e.waitDrained();
      expect(await e2e.getJson(`/v1/boards/${board.id}/users/${label}-2`)).toMatchObject({
        rank: 1,
        score: 1e6 + 40,
      });
    });
  });

  describe('bad options', () => {
    const valid = {
      policy: 'sum',
      order: 'desc',
      windows: ['all', 'day'],
      topK: 5,
      graceSeconds: 300,
      retentionDays: 30,
      tieBreak: 'first',
      timeZone: 'Europe/Berlin',
      minValue: 0,
      maxValue: 10,
    };
    const cases: [string, Record<string, unknown>, string][] = [
      ['tieBreak last', { tieBreak: 'last' }, 'tieBreak'],
      ['tieBreak in capitals', { tieBreak: 'FIRST' }, 'tieBreak'],
      ['tieBreak a number', { tieBreak: 1 }, 'tieBreak'],
      ['tieBreak null', { tieBreak: null }, 'tieBreak'],
      ['timeZone Mars/Olympus', { timeZone: 'Mars/Olympus' }, 'timeZone'],
      ['timeZone empty', { timeZone: '' }, 'timeZone'],
      ['timeZone a number', { timeZone: 60 }, 'timeZone'],
      ['timeZone an offset', { timeZone: '+25:00' }, 'timeZone'],
      ['windows PT30S (under a minute)', { windows: ['all', 'PT30S'] }, 'windows.1'],
      ['windows P400D (over 366 days)', { windows: ['P400D'] }, 'windows.0'],
      ['windows P1M (months have no fixed length)', { windows: ['P1M'] }, 'windows.0'],
      ['windows PT0S', { windows: ['PT0S'] }, 'windows.0'],
      ['windows in lower case', { windows: ['pt6h'] }, 'windows.0'],
      ['windows fortnight', { windows: ['fortnight'] }, 'windows.0'],
      ['windows PT6H twice (as PT360M)', { windows: ['PT6H', 'PT360M'] }, 'windows'],
      ['windows empty', { windows: [] }, 'windows'],
      ['windows a number', { windows: [6] }, 'windows.0'],
      ['minValue a string', { minValue: '0' }, 'minValue'],
      ['maxValue null', { maxValue: null }, 'maxValue'],
      ['minValue above maxValue', { minValue: 11 }, 'minValue'],
      ['an unknown option', { tiebreak: 'first' }, 'tiebreak'],
    ];
    for (const [what, change, field] of cases) {
      it(`answers 400 naming the field for ${what}, and creates nothing`, async () => {
        const id = uniqueName('bad');
        const res = await e2e.request('PUT', `/v1/boards/${id}`, { ...valid, ...change });
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(errorOf(res.body).code).toBe('invalid-body');
        expect(errorOf(res.body).message).toContain(field);
        expect((await e2e.get(`/v1/boards/${id}/top`)).status).toBe(404);
      });
    }

    it('answers 400 for bounds that are not finite (1e999 in the JSON)', async () => {
      for (const field of ['minValue', 'maxValue']) {
        const id = uniqueName('inf');
        const body = JSON.stringify({ ...valid, [field]: 0 }).replace(`"${field}":0`, `"${field}":1e999`);
        const res = await fetch(`${base}/v1/boards/${id}`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${TEST_KEYS.admin}`, 'Content-Type': 'application/json' },
          body,
        });
        expect(res.status).toBe(400);
        const error = errorOf((await res.json()) as Record<string, unknown>);
        expect(error).toMatchObject({
          code: 'invalid-body',
          message: expect.stringMatching(new RegExp(`${field}: .*(finite|Infinity)`)),
        });
      }
    });

    it('answers 409 board-conflict when the tie rule or the time zone of a board changes, and keeps the board as it was', async () => {
      const board = await e2e.createBoard({ ...valid } as Omit<BoardConfig, 'id'>);
      expect(board).toMatchObject({ tieBreak: 'first', timeZone: 'Europe/Berlin' });
      for (const change of [
        { tieBreak: 'shared' },
        { timeZone: 'Europe/Paris' },
        { timeZone: undefined },
        { tieBreak: undefined },
      ]) {
        const res = await e2e.request('PUT', `/v1/boards/${board.id}`, { ...valid, ...change });
        expect(res.status, JSON.stringify(change)).toBe(409);
        expect(errorOf(res.body).code).toBe('board-conflict');
        expect(errorOf(res.body).message).toMatch(/tieBreak|timeZone/);
      }
      const same = await e2e.request('PUT', `/v1/boards/${board.id}`, {
        ...valid,
        topK: 7,
        windows: ['all', 'PT360M'],
      });
      expect(same).toMatchObject({
        status: 200,
        body: { tieBreak: 'first', timeZone: 'Europe/Berlin', topK: 7, windows: ['all', 'PT6H'] },
      });
    });
  });

  describe('restart and replay', () => {
    it('after Redis lost a top’s snapshot, the edge serves the one written next, though its version counts from 1 again', async () => {
      const board = await e2e.createBoard({ ...bounded({}), tieBreak: 'first' });
      const label = uniqueName('s');
      const top = async () => plain((await e2e.getJson<EntriesPage>(`/v1/boards/${board.id}/top`)).entries);
      // Several merges, one per round: the snapshot's version climbs.
      for (let round = 1; round <= 4; round++) {
        const res = await e2e.request(
          'POST',
          `/v1/boards/${board.id}/events`,
          { userId: `${label}-a`, value: 1 },
          TEST_KEYS.ingest,
        );
        expect(res.status).toBe(202);
        await e2e.waitDrained();
        await e2e.eventually(top, [{ rank: 1, userId: `${label}-a`, score: round }], `round ${round}`);
      }
      const before = await e2e.getJson<{ version: number }>(`/v1/boards/${board.id}/top`);
      expect(before.version).toBeGreaterThanOrEqual(4);
      expect(await svc.redis.del(snapshotKey(svc.config.KEY_PREFIX, board.id, 'all:0'))).toBe(1);
      const res = await e2e.request(
        'POST',
        `/v1/boards/${board.id}/events`,
        { userId: `${label}-b`, value: 9 },
        TEST_KEYS.ingest,
      );
      expect(res.status).toBe(202);
      await e2e.waitDrained();
      await e2e.eventually(
        top,
        [
          { rank: 1, userId: `${label}-b`, score: 9 },
          { rank: 2, userId: `${label}-a`, score: 4 },
        ],
        'the top written after the loss',
      );
      expect((await e2e.getJson<{ version: number }>(`/v1/boards/${board.id}/top`)).version).toBeLessThan(
        before.version,
      );
    });

    it('a new service on the same Redis and store keeps every option (and, after Redis lost the boards, takes them from the store); a replay through the leaderboard replay command rebuilds what the model says', async () => {
      const prefix = uniqueName('rs');
      const first = await startTestService({ workers: true, db, prefix, env: READS });
      let current: TestService | undefined = first;
      try {
        let client = e2eClient(first, await first.listen());
        const config: Omit<BoardConfig, 'id'> = {
          policy: 'sum',
          order: 'asc',
          windows: ['all', 'day', 'PT6H'],
          topK: 3,
          graceSeconds: 7 * 86_400,
          retentionDays: 30,
          tieBreak: 'first',
          timeZone: 'America/New_York',
          minValue: -3,
          maxValue: 3,
        };
        const board = await client.createBoard(config);
        const seed = Date.now() % 1_000_000;
        const rnd = seededRandom(seed);
        const now = Date.now();
        const label = uniqueName('o');
        const events: ModelEvent[] = Array.from({ length: 160 }, () => ({
          board: board.id,
          userId: `${label}-${rnd.int(0, 11)}`,
          value: rnd.int(-2, 3),
          ts: now - rnd.int(0, 40) * 60_000 - (rnd.next() < 0.3 ? DAY : 0),
        }));
        const model = new LeaderboardModel(new Map([[board.id, board]]), first.config.PARTITIONS);
        model.apply(events);
        await client.ingest(events, rnd);
        const hiddenUser = `${label}-0`;
        expect((await client.request('PUT', `/v1/boards/${board.id}/hidden/${hiddenUser}`)).status).toBe(200);
        model.hide(board.id, hiddenUser);
        await client.waitDrained();

        const expectEverything = async (svc: TestService, what: string) => {
          const c = e2eClient(svc, await svc.listen());
          const listed = await c.getJson<{ boards: BoardConfig[] }>('/v1/boards?limit=1000');
          expect(
            listed.boards.find((b) => b.id === board.id),
            what,
          ).toEqual(board);
          await c.expectWindowsMatchModel(model, board, populatedWindows(model, board), seed);
          expect((await c.request('GET', `/v1/boards/${board.id}/hidden`)).body.users, what).toEqual([
            hiddenUser,
          ]);
          const out = await c.request(
            'POST',
            `/v1/boards/${board.id}/events`,
            { userId: hiddenUser, value: 4 },
            TEST_KEYS.ingest,
          );
          expect(errorOf(out.body).code, what).toBe('value-out-of-range');
          const conflict = await c.request('PUT', `/v1/boards/${board.id}`, { ...config, timeZone: 'UTC' });
          expect(conflict.status, what).toBe(409);
          return c;
        };

        current = undefined;
        await first.stop({ keepState: true });
        const second = await startTestService({ workers: true, db, prefix, env: READS });
        current = second;
        client = await expectEverything(second, 'after a restart');

        // Redis lost the boards (a restart without persistence): the store gives them back.
        current = undefined;
        await second.stop({ keepState: true });
        const redis = connect();
        expect(await redis.del(boardsKey(prefix), boardsMetaKey(prefix), boardsChangesKey(prefix))).toBe(3);
        await redis.quit();
        const third = await startTestService({ workers: true, db, prefix, env: READS });
        current = third;
        client = await expectEverything(third, 'after Redis lost the boards');

        // More events, with sums that net zero inside one replay chunk, then the derived state is lost.
        const more: ModelEvent[] = [];
        for (let u = 1; u < 6; u++) {
          more.push({ board: board.id, userId: `${label}-${u}`, value: 2, ts: now - u * 1000 });
          more.push({ board: board.id, userId: `${label}-${u}`, value: -2, ts: now - u * 500 });
        }
        model.apply(more);
        await client.ingest(more, rnd);
        await client.waitDrained();
        let deleted = 0;
        for (let p = 0; p < third.config.PARTITIONS; p++) {
          for (const kind of ['z', 't', 'h']) {
            deleted += await deleteMatching(third, `${partitionTag(prefix, p)}:${kind}:${board.id}:*`);
          }
        }
        deleted += await deleteMatching(third, `${snapshotKeyPrefix(prefix, board.id)}*`);
        expect(deleted).toBeGreaterThan(5);
        expect((await client.getJson<EntriesPage>(`/v1/boards/${board.id}/entries`)).entries).toEqual([]);

        const output = new PassThrough();
        let printed = '';
        output.on('data', (chunk) => {
          printed += String(chunk);
        });
        expect(await replayCommand(['--board', board.id], third.config, output)).toBe(0);
        expect(printed).toMatch(/swapped in: .*all:0/);
        await expectEverything(third, 'after the replay command');

        // A replay in small chunks (folding split across them) rebuilds the same state.
        const result = await replayBoard({
          redis: third.redis,
          boards: third.services.boards,
          board: board.id,
          name: prefix,
          partitions: third.config.PARTITIONS,
          chunkSize: 3,
        });
        expect(result.replayed).toBe(events.length + more.length);
        await expectEverything(third, 'after a replay in chunks of 3');
        const standings = await client.getJson<EntriesPage>(`/v1/boards/${board.id}/entries?limit=1000`);
        expect(plain(standings.entries)).toEqual(model.ranked(board.id, 'all:0'));
      } finally {
        await current?.stop();
      }
    });
  });
});

async function deleteMatching(svc: TestService, pattern: string): Promise<number> {
  let deleted = 0;
  for await (const keys of svc.redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) deleted += await svc.redis.del(...keys);
  }
  return deleted;
}
