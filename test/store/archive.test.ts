import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveStore } from '../../leaderboard/archive.js';
import {
  archivedTop,
  archiveWindow,
  type ClosedWindow,
  isArchived,
  type RankedEntry,
} from '../../leaderboard/store/archivedWindows.js';
import type { Database } from '../../leaderboard/store/database.js';
import { StoreInputError } from '../../leaderboard/store/storeInputError.js';
import {
  type ArchivedTop,
  type ArchiveSinkOptions,
  type ArchiveStore,
  archiveDue,
  archiveSink,
} from '../../operators/archiveSink.js';
import { stateKeys } from '../../operators/stateKeys.js';
import type { GroupSpec } from '../../operators/types.js';
import { windowDefinition } from '../../topology/windows/index.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';
import { ENGINES, flaky, unique, useStore } from './engines.js';

const DAY = 86_400_000;
const D = Date.UTC(2026, 2, 10);

const closedDay = (board: string, start: number, entries: RankedEntry[]): ClosedWindow => ({
  board,
  window: 'day',
  windowStart: start,
  windowEnd: start + DAY,
  entries,
});

const rowCounts = async (db: Database, board: string) => {
  const [row] = await db.query<{ windows: number; entries: number }>(
    `SELECT (SELECT count(*) FROM archived_windows WHERE board = $1) AS windows,
            (SELECT count(*) FROM archived_entries WHERE board = $1) AS entries`,
    [board],
  );
  return row;
};

describe.each(ENGINES)('archive on $name', (engine) => {
  // One database for the file: PGlite takes seconds to start.
  const store = useStore(engine);

  describe('archiveWindow, archivedTop, isArchived', () => {
    it('archives a closed window and reads its top by rank, ties by user id, at most k', async () => {
      const board = unique('b');
      const entries = [
        { rank: 3, userId: 'carol', score: 7.25 },
        { rank: 1, userId: 'bob', score: 10 },
        { rank: 1, userId: 'alice', score: 10 },
        { rank: 4, userId: 'dave', score: -2.5 },
      ];
      expect(await archiveWindow(store.db, closedDay(board, D, entries))).toBe(true);

      expect(await isArchived(store.db, board, 'day', D)).toBe(true);
      expect(await archivedTop(store.db, board, 'day', D, 10)).toEqual([
        { rank: 1, userId: 'alice', score: 10 },
        { rank: 1, userId: 'bob', score: 10 },
        { rank: 3, userId: 'carol', score: 7.25 },
        { rank: 4, userId: 'dave', score: -2.5 },
      ]);
      expect((await archivedTop(store.db, board, 'day', D, 2)).map((e) => e.userId)).toEqual([
        'alice',
        'bob',
      ]);
      // Another window of the same board is a different archive.
      expect(await isArchived(store.db, board, 'day', D + DAY)).toBe(false);
      expect(await archivedTop(store.db, board, 'day', D + DAY, 10)).toEqual([]);
      expect(await isArchived(store.db, board, 'week', D)).toBe(false);
    });

    it('archiving the same window again changes nothing, even with other entries', async () => {
      const board = unique('b');
      const first = [{ rank: 1, userId: 'alice', score: 5 }];
      expect(await archiveWindow(store.db, closedDay(board, D, first))).toBe(true);
      const before = await rowCounts(store.db, board);

      expect(await archiveWindow(store.db, closedDay(board, D, first))).toBe(false);
      const other = [
        { rank: 1, userId: 'mallory', score: 99 },
        { rank: 2, userId: 'alice', score: 1 },
      ];
      expect(await archiveWindow(store.db, closedDay(board, D, other))).toBe(false);

      expect(await rowCounts(store.db, board)).toEqual(before);
      expect(before).toEqual({ windows: 1, entries: 1 });
      expect(await archivedTop(store.db, board, 'day', D, 10)).toEqual(first);
    });

    it('archives a window that closed without scores as empty, which is not the same as unknown', async () => {
      const board = unique('b');
      expect(await archiveWindow(store.db, closedDay(board, D, []))).toBe(true);
      expect(await isArchived(store.db, board, 'day', D)).toBe(true);
      expect(await archivedTop(store.db, board, 'day', D, 10)).toEqual([]);
      expect(
        await archiveWindow(store.db, closedDay(board, D, [{ rank: 1, userId: 'late', score: 1 }])),
      ).toBe(false);
      expect(await archivedTop(store.db, board, 'day', D, 10)).toEqual([]);
    });

    it('keeps user ids with quotes, commas, braces, backslashes and emoji exactly as given', async () => {
      const board = unique('b');
      const awkward = [
        'NULL',
        'a,b',
        '{x}',
        'say "hi"',
        'back\\slash',
        "o'neil",
        ' padded ',
        '🦊fox',
        'Ünïcødé',
      ];
      const entries = awkward.map((userId, i) => ({ rank: i + 1, userId, score: i }));
      await archiveWindow(store.db, closedDay(board, D, entries));
      expect(await archivedTop(store.db, board, 'day', D, 100)).toEqual(entries);
    });

    it.each([
      [
        'an empty userId',
        {
          entries: [
            { rank: 1, userId: 'ok', score: 1 },
            { rank: 2, userId: '', score: 1 },
          ],
        },
        'entries[1].userId',
      ],
      [
        'a userId with a control character',
        { entries: [{ rank: 1, userId: 'a\nb', score: 1 }] },
        'entries[0].userId',
      ],
      [
        'a userId over 128 characters',
        { entries: [{ rank: 1, userId: 'x'.repeat(129), score: 1 }] },
        'entries[0].userId',
      ],
      [
        'a repeated userId',
        {
          entries: [
            { rank: 1, userId: 'a', score: 2 },
            { rank: 2, userId: 'a', score: 1 },
          ],
        },
        'entries[1].userId',
      ],
      ['a NaN score', { entries: [{ rank: 1, userId: 'a', score: Number.NaN }] }, 'entries[0].score'],
      ['an infinite score', { entries: [{ rank: 1, userId: 'a', score: Infinity }] }, 'entries[0].score'],
      ['rank 0', { entries: [{ rank: 0, userId: 'a', score: 1 }] }, 'entries[0].rank'],
      ['a fractional rank', { entries: [{ rank: 1.5, userId: 'a', score: 1 }] }, 'entries[0].rank'],
      ['entries that are not an array', { entries: 'nope' as never }, 'entries'],
      ["the 'all' window, which never closes", { window: 'all' as const, windowEnd: Infinity }, 'window'],
      ['an unknown window', { window: 'year' as never }, 'window'],
      ['an end not after the start', { windowEnd: D }, 'windowEnd'],
      ['a fractional start', { windowStart: D + 0.5 }, 'windowStart'],
      ['an invalid board id', { board: 'Not A Board' }, 'board'],
    ])('rejects %s with a StoreInputError naming the field, and writes nothing', async (_, change, field) => {
      const board = unique('b');
      const closed = { ...closedDay(board, D, [{ rank: 1, userId: 'a', score: 1 }]), ...change };
      const error = await archiveWindow(store.db, closed).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreInputError);
      expect((error as StoreInputError).field).toBe(field);
      expect((error as Error).message).toMatch(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')} must be `));
      expect(await rowCounts(store.db, board)).toEqual({ windows: 0, entries: 0 });
    });

    it('rejects reads with a k below 1 or a bad key', async () => {
      await expect(archivedTop(store.db, 'global', 'day', D, 0)).rejects.toThrow(
        'k must be an integer >= 1, got 0',
      );
      await expect(isArchived(store.db, '', 'day', D)).rejects.toBeInstanceOf(StoreInputError);
    });
  });

  describe('the archive sink, into this store', () => {
    const fast = { initialDelayMs: 5, maxDelayMs: 20 };
    let redis: Redis;
    beforeAll(() => {
      redis = new Redis(redisUrl());
    });
    afterAll(async () => {
      await redis.quit();
    });

    /** A day board with closed day instances on two partitions, their close times passed. */
    const closedBoard = async (days: number) => {
      const name = uniqueName('ar');
      const board = unique('b');
      const spec: GroupSpec = {
        reduce: 'sum',
        order: 'desc',
        windows: [windowDefinition('day')],
        k: 5,
        tieBreak: 'member',
        retentionMs: 30 * DAY,
      };
      for (let i = 0; i < days; i++) {
        const key = `day:${D + i * DAY}`;
        for (const p of [0, 1]) {
          const keys = stateKeys(name, p);
          await redis.zadd(keys.scores(board, key), i + p, `u${i}p${p}`);
          await redis.zadd(keys.closing, D + (i + 1) * DAY, `${board} ${key}`);
        }
      }
      const options = (db: Database, more: Partial<ArchiveSinkOptions> = {}): ArchiveSinkOptions => ({
        redis,
        name,
        partitions: 2,
        groups: (id) => (id === board ? spec : undefined),
        store: archiveStore(db),
        now: () => D + 100 * DAY,
        ...fast,
        ...more,
      });
      const closing = async () =>
        (await redis.zcard(stateKeys(name, 0).closing)) + (await redis.zcard(stateKeys(name, 1).closing));
      return { name, board, options, closing, cleanup: () => dropKeys(redis, name) };
    };

    it('archives every closed instance once though several partitions list it, then forgets it', async () => {
      const { board, options, closing, cleanup } = await closedBoard(3);
      const archived: ArchivedTop[] = [];
      await archiveDue(options(store.db), (top) => archived.push(top));
      expect(archived.map((a) => [a.windowStart, a.alreadyArchived, a.entries.map((e) => e.member)])).toEqual(
        [
          [D, false, ['u0p1', 'u0p0']],
          [D + DAY, false, ['u1p1', 'u1p0']],
          [D + 2 * DAY, false, ['u2p1', 'u2p0']],
        ],
      );
      expect(await archivedTop(store.db, board, 'day', D + DAY, 5)).toEqual([
        { rank: 1, userId: 'u1p1', score: 2 },
        { rank: 2, userId: 'u1p0', score: 1 },
      ]);
      expect(await closing()).toBe(0);
      await cleanup();
    });

    it('lists each archived instance as archived until its state expires (hiding a member still finds it), and forgets it then', async () => {
      const { name, board, options, cleanup } = await closedBoard(2);
      const archivedSet = (p: number) => redis.zrange(stateKeys(name, p).archived, 0, -1, 'WITHSCORES');
      await archiveDue(options(store.db, { now: () => D + 10 * DAY }));
      // Expiry: end + grace (0) + retention (30 days).
      const kept = [
        `${board} day:${D}`,
        String(D + 31 * DAY),
        `${board} day:${D + DAY}`,
        String(D + 32 * DAY),
      ];
      expect([await archivedSet(0), await archivedSet(1)]).toEqual([kept, kept]);
      // The next archive, once the first one's state expired, leaves it out.
      await redis.zadd(stateKeys(name, 0).closing, D + 3 * DAY, `${board} day:${D + 2 * DAY}`);
      await archiveDue(options(store.db, { now: () => D + 31 * DAY + 1 }));
      expect(await archivedSet(0)).toEqual([
        `${board} day:${D + DAY}`,
        String(D + 32 * DAY),
        `${board} day:${D + 2 * DAY}`,
        String(D + 33 * DAY),
      ]);
      await cleanup();
    });

    it('leaves an instance that has not closed yet', async () => {
      const { options, closing, cleanup } = await closedBoard(2);
      const archived: ArchivedTop[] = [];
      await archiveDue(options(store.db, { now: () => D + DAY }), (top) => archived.push(top));
      expect(archived.map((a) => a.windowStart)).toEqual([D]);
      expect(await closing()).toBe(2);
      await cleanup();
    });

    it('retries a write that failed on the way to the database, with growing delays, and drops nothing', async () => {
      const { board, options, cleanup } = await closedBoard(2);
      const db = flaky(store.db);
      let retries = 0;
      db.fail(3);
      const started = Date.now();
      const archived: ArchivedTop[] = [];
      await archiveDue(
        options(db.db, {
          onRetry: () => {
            retries++;
          },
        }),
        (top) => archived.push(top),
      );
      expect(db.failed).toBe(3);
      expect(retries).toBe(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(5 + 10 + 20 - 3); // timers may fire a ms early
      expect(archived.map((w) => [w.windowStart, w.alreadyArchived])).toEqual([
        [D, false],
        [D + DAY, false],
      ]);
      expect(await isArchived(store.db, board, 'day', D)).toBe(true);
      expect(await isArchived(store.db, board, 'day', D + DAY)).toBe(true);
      await cleanup();
    });

    it('a retry after a failure that hid a successful commit finds the window archived, once', async () => {
      const { board, options, cleanup } = await closedBoard(1);
      const db = flaky(store.db);
      db.fail(1, 'after');
      const archived: ArchivedTop[] = [];
      await archiveDue(options(db.db), (top) => archived.push(top));
      expect(db.failed).toBe(1);
      expect(archived.map((a) => a.alreadyArchived)).toEqual([true]);
      expect(await rowCounts(store.db, board)).toEqual({ windows: 1, entries: 2 });
      await cleanup();
    });

    it('errors with a top the store refuses for good instead of retrying it forever, and keeps it listed', async () => {
      const { options, closing, cleanup } = await closedBoard(1);
      let retries = 0;
      const refusing: ArchiveStore = {
        archive: () => Promise.reject(new StoreInputError('entries[0].userId', 'a user id', '')),
        isRetryable: (error) => !(error instanceof StoreInputError),
      };
      const error = await new Promise((resolve) => {
        archiveSink(options(store.db, { store: refusing, onRetry: () => retries++ })).subscribe({
          error: resolve,
        });
      });
      expect(error).toBeInstanceOf(StoreInputError);
      expect(retries).toBe(0);
      expect(await closing()).toBe(2);
      await cleanup();
    });

    it('rejects a backoff whose first delay exceeds its cap', async () => {
      const { options, cleanup } = await closedBoard(0);
      expect(() => archiveSink(options(store.db, { initialDelayMs: 100, maxDelayMs: 10 }))).toThrow(
        RangeError,
      );
      await cleanup();
    });
  });
});
