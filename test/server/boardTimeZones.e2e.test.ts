/**
 * End to end, a board's time zone and its duration windows (issue 13), through a listening server
 * and in-process workers. Events on both sides of daylight-saving changes land in the window
 * instances whose boundaries are written here by hand (a 23- and a 25-hour day in New York, a
 * 30-minute hour and a 23.5-hour day on Lord Howe Island, whose clock moves by half an hour);
 * `PT6H` and `P3D` follow the Unix epoch whatever the zone. A property test sends events around
 * the 2026 changes of a few zones and compares every read with the model and the window bounds
 * with a brute-force wall-clock oracle.
 *
 * Each service here is fresh: event times of 2026 are past, so they count only while the
 * partitions' stream time has not moved beyond their windows' grace.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BoardConfig, type Database, openDatabase } from '../../leaderboard/index.js';
import { LeaderboardModel, type ModelEvent, modelWindow } from '../support/leaderboardModel.js';
import { uniqueName } from '../support/redis.js';
import { startTestService, type TestService } from '../support/service.js';
import {
  calendarWindowOracle,
  changesInYear,
  HOUR,
  hourWindowOracle,
} from '../topology/windows/wallClockOracle.js';
import {
  type E2eClient,
  type EntriesPage,
  e2eClient,
  encode,
  type Random,
  seededRandom,
} from './e2eSupport.js';

const at = (iso: string) => Date.parse(iso);

/** A boundary between two window instances: `[previousStart, at)` and `[at, nextEnd)`, by hand. */
interface Boundary {
  zone: 'ny' | 'lh';
  window: string;
  at: string;
  previousStart: string;
  nextEnd: string;
  why: string;
}

const BOUNDARIES: Boundary[] = [
  // America/New_York: EST (-05:00) until 2026-03-08 02:00, EDT (-04:00) until 2026-11-01 02:00.
  {
    zone: 'ny',
    window: 'day',
    at: '2026-03-08T05:00:00Z',
    previousStart: '2026-03-07T05:00:00Z',
    nextEnd: '2026-03-09T04:00:00Z',
    why: 'midnight EST of 8 March starts a 23-hour day',
  },
  {
    zone: 'ny',
    window: 'day',
    at: '2026-03-09T04:00:00Z',
    previousStart: '2026-03-08T05:00:00Z',
    nextEnd: '2026-03-10T04:00:00Z',
    why: 'midnight EDT of 9 March ends the 23-hour day',
  },
  {
    zone: 'ny',
    window: 'day',
    at: '2026-11-01T04:00:00Z',
    previousStart: '2026-10-31T04:00:00Z',
    nextEnd: '2026-11-02T05:00:00Z',
    why: 'midnight EDT of 1 November starts a 25-hour day',
  },
  {
    zone: 'ny',
    window: 'day',
    at: '2026-11-02T05:00:00Z',
    previousStart: '2026-11-01T04:00:00Z',
    nextEnd: '2026-11-03T05:00:00Z',
    why: 'midnight EST of 2 November ends the 25-hour day',
  },
  {
    zone: 'ny',
    window: 'hour',
    at: '2026-03-08T07:00:00Z',
    previousStart: '2026-03-08T06:00:00Z',
    nextEnd: '2026-03-08T08:00:00Z',
    why: '01:00 EST is followed by 03:00 EDT (02:00 is skipped)',
  },
  {
    zone: 'ny',
    window: 'hour',
    at: '2026-11-01T06:00:00Z',
    previousStart: '2026-11-01T05:00:00Z',
    nextEnd: '2026-11-01T07:00:00Z',
    why: '01:00 happens twice: EDT, then EST',
  },
  {
    zone: 'ny',
    window: 'week',
    at: '2026-03-09T04:00:00Z',
    previousStart: '2026-03-02T05:00:00Z',
    nextEnd: '2026-03-16T04:00:00Z',
    why: 'Monday 9 March 00:00 EDT ends a 167-hour ISO week',
  },
  {
    zone: 'ny',
    window: 'week',
    at: '2026-11-02T05:00:00Z',
    previousStart: '2026-10-26T04:00:00Z',
    nextEnd: '2026-11-09T05:00:00Z',
    why: 'Monday 2 November 00:00 EST ends a 169-hour ISO week',
  },
  {
    zone: 'ny',
    window: 'month',
    at: '2026-03-01T05:00:00Z',
    previousStart: '2026-02-01T05:00:00Z',
    nextEnd: '2026-04-01T04:00:00Z',
    why: 'March starts in EST and ends in EDT',
  },
  {
    zone: 'ny',
    window: 'month',
    at: '2026-11-01T04:00:00Z',
    previousStart: '2026-10-01T04:00:00Z',
    nextEnd: '2026-12-01T05:00:00Z',
    why: 'November starts in EDT and ends in EST',
  },
  {
    zone: 'ny',
    window: 'PT6H',
    at: '2026-11-01T06:00:00Z',
    previousStart: '2026-11-01T00:00:00Z',
    nextEnd: '2026-11-01T12:00:00Z',
    why: 'six-hour windows follow the epoch (UTC), not the zone',
  },
  {
    zone: 'ny',
    window: 'P3D',
    at: '2026-03-08T00:00:00Z',
    previousStart: '2026-03-05T00:00:00Z',
    nextEnd: '2026-03-11T00:00:00Z',
    why: 'day 20520 of the epoch is a multiple of 3 (UTC midnight, not New York midnight)',
  },
  // Australia/Lord_Howe: +11:00 until 2026-04-05 02:00 (back to 01:30), +10:30 until 2026-10-04
  // 02:00 (on to 02:30).
  {
    zone: 'lh',
    window: 'hour',
    at: '2026-04-04T15:00:00Z',
    previousStart: '2026-04-04T14:00:00Z',
    nextEnd: '2026-04-04T15:30:00Z',
    why: 'the clock goes back from 02:00 to 01:30: a 30-minute hour until 02:00',
  },
  {
    zone: 'lh',
    window: 'hour',
    at: '2026-04-04T15:30:00Z',
    previousStart: '2026-04-04T15:00:00Z',
    nextEnd: '2026-04-04T16:30:00Z',
    why: 'from 02:00 +10:30 the hours start at half past the UTC hour',
  },
  {
    zone: 'lh',
    window: 'hour',
    at: '2026-10-03T15:30:00Z',
    previousStart: '2026-10-03T14:30:00Z',
    nextEnd: '2026-10-03T16:00:00Z',
    why: 'the clock goes on from 02:00 to 02:30: a 30-minute hour until 03:00',
  },
  {
    zone: 'lh',
    window: 'day',
    at: '2026-04-04T13:00:00Z',
    previousStart: '2026-04-03T13:00:00Z',
    nextEnd: '2026-04-05T13:30:00Z',
    why: '5 April lasts 24.5 hours',
  },
  {
    zone: 'lh',
    window: 'day',
    at: '2026-10-03T13:30:00Z',
    previousStart: '2026-10-02T13:30:00Z',
    nextEnd: '2026-10-04T13:00:00Z',
    why: '4 October lasts 23.5 hours',
  },
];

/** Event times sent roughly in order: each moved by up to 12 hours, so neighbours arrive out of order. */
function roughlyInOrder(events: ModelEvent[], rnd: Random): ModelEvent[] {
  return events
    .map((event) => ({ event, key: event.ts + rnd.int(0, 12) * HOUR }))
    .sort((a, b) => a.key - b.key)
    .map((e) => e.event);
}

describe('board time zones and duration windows, end to end (real server, workers and redis-server)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({});
  });
  afterAll(async () => {
    await db?.close();
  });

  const freshService = async (): Promise<{ svc: TestService; e2e: E2eClient }> => {
    const svc = await startTestService({ workers: true, db, env: { ANONYMOUS_RATE_LIMIT_RPS: '0' } });
    return { svc, e2e: e2eClient(svc, await svc.listen()) };
  };

  const zoneBoard = (timeZone: string, windows: string[]): Omit<BoardConfig, 'id'> => ({
    policy: 'sum',
    order: 'desc',
    windows,
    topK: 3,
    graceSeconds: 7 * 86_400,
    retentionDays: 3650,
    timeZone,
  });

  it('puts events on both sides of each daylight-saving change into the instances written here by hand, and reads say where each begins and ends', async () => {
    const { svc, e2e } = await freshService();
    try {
      const seed = Date.now() % 1_000_000;
      const rnd = seededRandom(seed);
      const ny = await e2e.createBoard(
        zoneBoard('America/New_York', ['all', 'hour', 'day', 'week', 'month', 'PT6H', 'P3D']),
      );
      const lh = await e2e.createBoard(zoneBoard('Australia/Lord_Howe', ['hour', 'day']));
      expect([ny.timeZone, lh.timeZone]).toEqual(['America/New_York', 'Australia/Lord_Howe']);
      const boards = { ny, lh };
      const label = uniqueName('z');
      // For each boundary, a user just before it and one at it, and others around both.
      const events: ModelEvent[] = [];
      BOUNDARIES.forEach((b, i) => {
        const board = boards[b.zone].id;
        events.push({ board, userId: `${label}-before${i}`, value: rnd.int(1, 5), ts: at(b.at) - 1 });
        events.push({ board, userId: `${label}-after${i}`, value: rnd.int(1, 5), ts: at(b.at) });
        for (let j = 0; j < 8; j++) {
          const ts = at(b.at) + rnd.int(-90, 89) * 60_000;
          events.push({ board, userId: `${label}-n${rnd.int(0, 9)}`, value: rnd.int(1, 3), ts });
        }
      });
      const sent = roughlyInOrder(events, rnd);
      const model = new LeaderboardModel(new Map([ny, lh].map((b) => [b.id, b])), svc.config.PARTITIONS);
      model.apply(sent);
      expect(model.late, 'every event counts (none past its grace)').toEqual([]);
      await e2e.ingest(sent, rnd);
      await e2e.waitDrained();

      for (const [i, b] of BOUNDARIES.entries()) {
        const board = boards[b.zone];
        const what = `${b.zone} ${b.window} at ${b.at} (${b.why})`;
        const boundary = at(b.at);
        const previous = { windowStart: at(b.previousStart), windowEnd: boundary };
        const next = { windowStart: boundary, windowEnd: at(b.nextEnd) };
        // The model's instances (the library's window definitions) are the ones written by hand.
        expect(modelWindow(board, b.window, boundary - 1), what).toMatchObject({
          start: previous.windowStart,
          end: previous.windowEnd,
        });
        expect(modelWindow(board, b.window, boundary), what).toMatchObject({
          start: next.windowStart,
          end: next.windowEnd,
        });
        for (const [ts, instance, present, absent] of [
          [boundary - 1, previous, `${label}-before${i}`, `${label}-after${i}`],
          [boundary, next, `${label}-after${i}`, `${label}-before${i}`],
        ] as const) {
          const query = `window=${b.window}&at=${ts}`;
          const key = modelWindow(board, b.window, ts).key;
          const top = await e2e.getJson<Record<string, unknown>>(`/v1/boards/${board.id}/top?${query}`);
          expect(top, what).toMatchObject({ window: b.window, ...instance });
          const pages = await e2e.allEntries(board, query, 5);
          for (const page of pages) expect(page, what).toMatchObject(instance);
          expect(
            pages.flatMap((p) => p.entries.map(({ rank, userId, score }) => ({ rank, userId, score }))),
            `${what}: entries at ${ts}`,
          ).toEqual(model.ranked(board.id, key));
          expect(await e2e.getJson(`/v1/boards/${board.id}/users/${encode(present)}?${query}`)).toEqual(
            model.standing(board.id, key, present),
          );
          expect(
            (await e2e.get(`/v1/boards/${board.id}/users/${encode(absent)}?${query}`)).status,
            what,
          ).toBe(404);
        }
      }
      // The all window spans every time: windowEnd null.
      const all = await e2e.getJson<EntriesPage>(`/v1/boards/${ny.id}/entries?window=all&limit=1000`);
      expect(all).toMatchObject({ windowStart: 0, windowEnd: null });
      expect(all.entries.map(({ rank, userId, score }) => ({ rank, userId, score }))).toEqual(
        model.ranked(ny.id, 'all:0'),
      );
      // The snapshots of closed 2026 windows are merged too.
      const b = BOUNDARIES[2]!;
      const key = modelWindow(ny, 'day', at(b.at)).key;
      await e2e.eventually(
        async () =>
          (await e2e.getJson<EntriesPage>(`/v1/boards/${ny.id}/top?window=day&at=${at(b.at)}`)).entries.map(
            ({ rank, userId, score }) => ({ rank, userId, score }),
          ),
        model.ranked(ny.id, key).slice(0, ny.topK),
        `the top of ${key}`,
      );
    } finally {
      await svc.stop();
    }
  });

  it('property: events around the 2026 daylight-saving changes of a zone are read back in the instances a wall-clock oracle computes', async () => {
    const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Santiago'];
    const changes = new Map(zones.map((z) => [z, changesInYear(z, 2026)]));
    const scenario = fc.record({
      zone: fc.constantFrom(...zones),
      change: fc.integer({ min: 0, max: 1 }),
      events: fc.array(
        fc.record({
          user: fc.integer({ min: 0, max: 5 }),
          value: fc.integer({ min: 1, max: 3 }),
          // Minutes from the change, up to two days on each side.
          minute: fc.integer({ min: -2 * 24 * 60, max: 2 * 24 * 60 }),
        }),
        { minLength: 4, maxLength: 16 },
      ),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { svc, e2e } = await freshService();
        try {
          const windows = ['hour', 'day', 'week', 'month'] as const;
          const board = await e2e.createBoard(zoneBoard(s.zone, ['all', ...windows]));
          const change = changes.get(s.zone)![s.change]!;
          const label = uniqueName('q');
          const events: ModelEvent[] = s.events.map((e) => ({
            board: board.id,
            userId: `${label}-${e.user}`,
            value: e.value,
            ts: change + e.minute * 60_000,
          }));
          const rnd = seededRandom(s.seed);
          const sent = roughlyInOrder(events, rnd);
          const model = new LeaderboardModel(new Map([[board.id, board]]), svc.config.PARTITIONS);
          model.apply(sent);
          expect(model.late).toEqual([]);
          await e2e.ingest(sent, rnd);
          await e2e.waitDrained();
          for (const event of sent) {
            for (const window of windows) {
              const oracle =
                window === 'hour'
                  ? hourWindowOracle(s.zone, event.ts)
                  : calendarWindowOracle(s.zone, window, event.ts);
              const instance = modelWindow(board, window, event.ts);
              expect(
                { start: instance.start, end: instance.end },
                `${s.zone} ${window} at ${event.ts}`,
              ).toEqual(oracle);
              const query = `window=${window}&at=${event.ts}`;
              const around = await e2e.getJson<Record<string, unknown>>(
                `/v1/boards/${board.id}/users/${encode(event.userId)}/around?${query}&n=100`,
              );
              expect(around).toMatchObject({ windowStart: oracle.start, windowEnd: oracle.end });
              expect(around.entries).toEqual(model.ranked(board.id, instance.key));
            }
          }
        } finally {
          await svc.stop();
        }
      }),
      { numRuns: 10, endOnFailure: true },
    );
  });
});
