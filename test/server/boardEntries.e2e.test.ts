/**
 * End to end, paging the whole board with `GET /v1/boards/:board/entries` (issue 13), through a
 * listening server and in-process workers: the pages, put together, are the model's ranking on
 * both tie rules and orders; a property test changes the scores of other users between pages and
 * requires that every user whose score did not change appears exactly once, in ranking order;
 * bad cursors and limits are refused with 400.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BoardConfig } from '../../leaderboard/index.js';
import { LeaderboardModel, type ModelEvent, modelWindow } from '../support/leaderboardModel.js';
import { uniqueName } from '../support/redis.js';
import { TEST_KEYS, type TestService } from '../support/service.js';
import {
  type E2eClient,
  type EntriesPage,
  encode,
  plain,
  seededRandom,
  withE2eService,
} from './e2eSupport.js';

const DAY = 86_400_000;

describe('paging the whole board, end to end (real server, workers and redis-server)', () => {
  let svc: TestService;
  let e2e: E2eClient;
  withE2eService((service, client) => {
    svc = service;
    e2e = client;
  });

  const board = (policy: BoardConfig['policy'], order: BoardConfig['order'], tieBreak: 'shared' | 'first') =>
    e2e.createBoard({
      policy,
      order,
      windows: ['all', 'day'],
      topK: 5,
      graceSeconds: 7 * 86_400,
      retentionDays: 30,
      tieBreak,
    });

  it('the pages put together are the whole ranking, on both tie rules and orders, for any page size', async () => {
    const seed = Date.now() % 1_000_000;
    const rnd = seededRandom(seed);
    const boards = [
      await board('sum', 'desc', 'shared'),
      await board('max', 'asc', 'shared'),
      await board('sum', 'asc', 'first'),
      await board('last', 'desc', 'first'),
    ];
    const model = new LeaderboardModel(new Map(boards.map((b) => [b.id, b])), svc.config.PARTITIONS);
    const now = Date.now();
    const label = uniqueName('e');
    const events: ModelEvent[] = [];
    for (const b of boards) {
      // 42 users, each with an event today and some yesterday; few values, so many ties.
      for (let u = 0; u < 42; u++) {
        events.push({
          board: b.id,
          userId: `${label}-${u}`,
          value: rnd.int(1, 4),
          ts: now - rnd.int(0, 30) * 1000,
        });
        if (rnd.next() < 0.5) {
          events.push({
            board: b.id,
            userId: `${label}-${u}`,
            value: rnd.int(1, 4),
            ts: now - DAY - rnd.int(0, 30) * 1000,
          });
        }
      }
    }
    model.apply(events);
    await e2e.ingest(events, rnd);
    await e2e.waitDrained();

    for (const b of boards) {
      for (const [window, at] of [
        ['all', now],
        ['day', now],
        ['day', now - DAY],
      ] as const) {
        const key = modelWindow(b, window, at).key;
        const ranked = model.ranked(b.id, key);
        expect(ranked.length).toBeGreaterThan(10);
        for (const limit of [1, 5, 7, ranked.length, 1000]) {
          const pages = await e2e.allEntries(b, `window=${window}&at=${at}`, limit);
          const what = `seed ${seed}: ${b.id} (${b.tieBreak}, ${b.order}) ${key} by ${limit}`;
          expect(
            pages.flatMap((p) => plain(p.entries)),
            what,
          ).toEqual(ranked);
          expect(pages.length, what).toBe(Math.max(1, Math.ceil(ranked.length / limit)));
          for (const page of pages.slice(0, -1)) expect(page.entries.length).toBe(limit);
          expect(pages.at(-1)!.next).toBeNull();
        }
      }
    }
    // The default page holds 100 entries.
    const first = await e2e.getJson<EntriesPage>(`/v1/boards/${boards[0]!.id}/entries`);
    expect(plain(first.entries)).toEqual(model.ranked(boards[0]!.id, 'all:0').slice(0, 100));
  });

  it('answers an empty page (next null) for a window without scores', async () => {
    const b = await board('sum', 'desc', 'first');
    const page = await e2e.getJson<EntriesPage>(`/v1/boards/${b.id}/entries?window=day&limit=3`);
    expect(page).toMatchObject({ board: b.id, window: 'day', entries: [], next: null });
  });

  it('refuses bad cursors, limits and windows with 400, and an unknown board with 404', async () => {
    const b = await board('sum', 'desc', 'shared');
    const user = uniqueName('c');
    for (let i = 0; i < 3; i++) {
      const res = await e2e.request(
        'POST',
        `/v1/boards/${b.id}/events`,
        { userId: `${user}${i}`, value: i },
        TEST_KEYS.ingest,
      );
      expect(res.status).toBe(202);
    }
    await e2e.waitDrained();
    const page = await e2e.getJson<EntriesPage>(`/v1/boards/${b.id}/entries?limit=1`);
    expect(page.next).toEqual(expect.any(String));
    const cursors = [
      'not-a-cursor',
      Buffer.from('[1,"a"]').toString('base64url'),
      Buffer.from('["Infinity","a"]').toString('base64url'),
      Buffer.from('["1"]').toString('base64url'),
      Buffer.from('{"score":"1"}').toString('base64url'),
      Buffer.from('["1",5]').toString('base64url'),
    ];
    for (const cursor of cursors) {
      const res = await e2e.get(`/v1/boards/${b.id}/entries?after=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect((res.body.error as { code: string; message: string }).code).toBe('invalid-cursor');
      expect((res.body.error as { message: string }).message).toMatch(/^after: /);
    }
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=x',
      'limit=1.5',
      'at=-1',
      'window=year',
      'window=hour',
    ]) {
      const res = await e2e.get(`/v1/boards/${b.id}/entries?${query}`);
      expect(res.status, query).toBe(400);
      expect((res.body.error as { code: string }).code, query).toBe('invalid-query');
    }
    const unknown = await e2e.get(`/v1/boards/${uniqueName('none')}/entries`);
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as { code: string }).code).toBe('unknown-board');
    // The cursor of a page still works after its last entry changed its score.
    const last = page.entries[0]!.userId;
    expect(
      (await e2e.request('POST', `/v1/boards/${b.id}/events`, { userId: last, value: 100 }, TEST_KEYS.ingest))
        .status,
    ).toBe(202);
    await e2e.waitDrained();
    const rest = await e2e.getJson<EntriesPage>(`/v1/boards/${b.id}/entries?after=${encode(page.next!)}`);
    expect(rest.entries.map((e) => e.userId)).toEqual([`${user}1`, `${user}0`]);
  });

  it('property: while other users change, every user whose score does not appears exactly once across the pages, in ranking order', async () => {
    const scenario = fc.record({
      policy: fc.constantFrom('sum' as const, 'last' as const),
      order: fc.constantFrom('desc' as const, 'asc' as const),
      tieBreak: fc.constantFrom('shared' as const, 'first' as const),
      frozen: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 10 }),
      moving: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 12 }),
      limit: fc.integer({ min: 1, max: 4 }),
      // Between two pages: some moving users get a new value (or a delta), some new users come.
      rounds: fc.array(
        fc.array(
          fc.record({ user: fc.nat(), value: fc.integer({ min: -4, max: 4 }), newUser: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        { minLength: 12, maxLength: 12 },
      ),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
    });
    let disturbed = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const b = await board(s.policy, s.order, s.tieBreak);
        const label = uniqueName('f');
        const frozen = s.frozen.map((_, i) => `${label}-f${i}`);
        const moving = s.moving.map((_, i) => `${label}-m${i}`);
        const now = Date.now();
        let clock = now - 60_000;
        const event = (userId: string, value: number): ModelEvent => ({
          board: b.id,
          userId,
          value,
          ts: clock++,
        });
        const model = new LeaderboardModel(new Map([[b.id, b]]), svc.config.PARTITIONS);
        const rnd = seededRandom(s.seed);
        const send = async (events: ModelEvent[]) => {
          model.apply(events);
          await e2e.ingest(events, rnd);
          await e2e.waitDrained();
        };
        await send([
          ...frozen.map((u, i) => event(u, s.frozen[i]!)),
          ...moving.map((u, i) => event(u, s.moving[i]!)),
        ]);

        const seen: string[] = [];
        let after: string | null = null;
        let round = 0;
        do {
          const cursor: string = after === null ? '' : `&after=${encode(after)}`;
          const page: EntriesPage = await e2e.getJson<EntriesPage>(
            `/v1/boards/${b.id}/entries?limit=${s.limit}${cursor}`,
          );
          seen.push(...page.entries.map((e) => e.userId));
          after = page.next;
          const changes = s.rounds[round++ % s.rounds.length]!;
          const events: ModelEvent[] = [];
          for (const c of changes) {
            if (c.newUser) moving.push(`${label}-n${moving.length}`);
            const userId = c.newUser ? moving.at(-1)! : moving[c.user % moving.length]!;
            events.push(event(userId, c.value));
          }
          await send(events);
          expect(round, 'pages').toBeLessThan(200);
        } while (after !== null);

        const frozenSet = new Set(frozen);
        const frozenSeen = seen.filter((u) => frozenSet.has(u));
        const frozenRanked = model
          .ranked(b.id, 'all:0')
          .map((e) => e.userId)
          .filter((u) => frozenSet.has(u));
        expect(frozenSeen, `seed ${s.seed}: the frozen users, once each, in ranking order`).toEqual(
          frozenRanked,
        );
        expect(frozenRanked).toHaveLength(frozen.length);
        // Whether the changes made the pages differ from any one ranking (some user seen twice or never).
        const all = model.ranked(b.id, 'all:0').map((e) => e.userId);
        if (seen.length !== new Set(seen).size || seen.length !== all.length) disturbed++;
      }),
      { numRuns: 10, endOnFailure: true },
    );
    expect(disturbed, 'runs whose pages the changes disturbed').toBeGreaterThan(0);
  });
});
