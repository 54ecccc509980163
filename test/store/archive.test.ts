import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { archiveSink } from '../../operators/archiveSink.js';
import {
  archivedTop,
  archiveWindow,
  type ClosedWindow,
  isArchived,
  type RankedEntry,
} from '../../operators/store/archivedWindows.js';
import type { Database } from '../../operators/store/database.js';
import { StoreInputError } from '../../operators/store/storeInputError.js';
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

  describe('archiveSink', () => {
    const fast = { initialDelayMs: 5, maxDelayMs: 20 };

    it('archives the notices in order and emits each once stored', async () => {
      const board = unique('b');
      const notices = [0, 1, 2].map((i) =>
        closedDay(board, D + i * DAY, [{ rank: 1, userId: `u${i}`, score: i }]),
      );
      const out = await lastValueFrom(from(notices).pipe(archiveSink(store.db, fast), toArray()));
      expect(out).toEqual(notices.map((n) => ({ ...n, alreadyArchived: false })));
      for (const [i, n] of notices.entries()) {
        expect(await archivedTop(store.db, board, 'day', n.windowStart, 5)).toEqual([
          { rank: 1, userId: `u${i}`, score: i },
        ]);
      }
    });

    it('retries a write that failed on the way to the database, with growing delays, and drops nothing', async () => {
      const board = unique('b');
      const db = flaky(store.db);
      const retries: number[] = [];
      const notices = [0, 1].map((i) =>
        closedDay(board, D + i * DAY, [{ rank: 1, userId: `u${i}`, score: i }]),
      );
      db.fail(3);
      const started = Date.now();
      const out = await lastValueFrom(
        from(notices).pipe(
          archiveSink(db.db, { ...fast, onRetry: (_e, attempt) => retries.push(attempt) }),
          toArray(),
        ),
      );
      expect(db.failed).toBe(3);
      expect(retries).toEqual([1, 2, 3]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(5 + 10 + 20 - 3); // timers may fire a ms early
      // The first notice waited out the failures; both are archived, in order.
      expect(out.map((w) => [w.windowStart, w.alreadyArchived])).toEqual([
        [D, false],
        [D + DAY, false],
      ]);
      expect(await isArchived(store.db, board, 'day', D)).toBe(true);
      expect(await isArchived(store.db, board, 'day', D + DAY)).toBe(true);
    });

    it('a retry after a failure that hid a successful commit finds the window archived, once', async () => {
      const board = unique('b');
      const db = flaky(store.db);
      db.fail(1, 'after');
      const notice = closedDay(board, D, [{ rank: 1, userId: 'ada', score: 3 }]);
      const out = await lastValueFrom(from([notice]).pipe(archiveSink(db.db, fast), toArray()));
      expect(db.failed).toBe(1);
      expect(out).toEqual([{ ...notice, alreadyArchived: true }]);
      expect(await rowCounts(store.db, board)).toEqual({ windows: 1, entries: 1 });
    });

    it('errors with an invalid notice instead of retrying it forever or skipping it', async () => {
      const board = unique('b');
      const retries: unknown[] = [];
      const good = closedDay(board, D, [{ rank: 1, userId: 'ada', score: 1 }]);
      const bad = closedDay(board, D + DAY, [{ rank: 1, userId: '', score: 1 }]);
      const emitted: unknown[] = [];
      const error = await new Promise((resolve) => {
        from([good, bad])
          .pipe(archiveSink(store.db, { ...fast, onRetry: (e) => retries.push(e) }))
          .subscribe({
            next: (w) => emitted.push(w.windowStart),
            error: resolve,
            complete: () => resolve(null),
          });
      });
      expect(error).toBeInstanceOf(StoreInputError);
      expect((error as Error).message).toContain('entries[0].userId must be');
      expect(retries).toEqual([]);
      expect(emitted).toEqual([D]);
    });

    it('rejects a backoff whose first delay exceeds its cap', () => {
      expect(() => archiveSink(store.db, { initialDelayMs: 100, maxDelayMs: 10 })).toThrow(RangeError);
    });
  });
});
