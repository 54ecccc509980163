/**
 * The final top-K of closed windows. Redis keeps a window's scores only for the board's retention;
 * the archive keeps its result for good, so past boards stay readable.
 */
import type { Database, Queryable } from './database.js';
import {
  checkArray,
  checkBoardId,
  checkFinite,
  checkInteger,
  checkUserId,
  checkWindow,
} from './inputChecks.js';
import { StoreInputError } from './storeInputError.js';

/** One row of a ranking. */
export interface RankedEntry {
  /** 1-based; equal scores may share a rank. */
  rank: number;
  userId: string;
  score: number;
}

/** A window that has closed (its end plus grace has passed), with its final top-K. */
export interface ClosedWindow {
  board: string;
  window: string;
  /** Epoch ms, inclusive. */
  windowStart: number;
  /** Epoch ms, exclusive. */
  windowEnd: number;
  entries: readonly RankedEntry[];
}

/**
 * Archives a closed window's final top-K, once: the first archive of a (board, window,
 * windowStart) wins, and archiving it again changes nothing, whatever the entries. So a sink that
 * retries after an unclear failure (the commit may have happened) cannot duplicate or alter it.
 *
 * ## Example
 * ```ts
 * import { archiveWindow } from './leaderboard/store/archivedWindows.js';
 *
 * const fresh = await archiveWindow(db, {
 *   board: 'global', window: 'day', windowStart: Date.UTC(2026, 2, 10), windowEnd: Date.UTC(2026, 2, 11),
 *   entries: [{ rank: 1, userId: 'ada', score: 42 }],
 * }); // true; false when it was archived before
 * ```
 *
 * @see {@link archivedTop}
 * @param db The database.
 * @param closed The window and its entries; `all` never closes and is rejected.
 * @return Whether this call archived it (false: it was already archived).
 * @throws StoreInputError for an invalid field; nothing is written then.
 */
export async function archiveWindow(db: Database, closed: ClosedWindow): Promise<boolean> {
  const { board, window, windowStart, windowEnd, ranks, userIds, scores } = checkClosedWindow(closed);
  return db.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO archived_windows (board, "window", window_start, window_end, entries)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING
       RETURNING 1`,
      [board, window, windowStart, windowEnd, ranks.length],
    );
    if (inserted.length === 0) return false;
    if (ranks.length > 0) {
      await tx.query(
        `INSERT INTO archived_entries (board, "window", window_start, window_end, rank, user_id, score)
         SELECT $1, $2, $3, $4, e.rank, e.user_id, e.score
         FROM unnest($5::integer[], $6::text[], $7::double precision[]) AS e(rank, user_id, score)
         ON CONFLICT DO NOTHING`,
        [board, window, windowStart, windowEnd, ranks, userIds, scores],
      );
    }
    return true;
  });
}

/**
 * Reads the first `k` entries of an archived window, by rank (ties by user id).
 *
 * ## Example
 * ```ts
 * import { archivedTop } from './leaderboard/store/archivedWindows.js';
 *
 * const top10 = await archivedTop(db, 'global', 'day', Date.UTC(2026, 2, 10), 10);
 * ```
 *
 * @see {@link isArchived} to tell an unknown window from an empty one.
 * @return The entries; empty when the window is not archived or had no scores.
 */
export async function archivedTop(
  db: Queryable,
  board: string,
  window: string,
  windowStart: number,
  k: number,
): Promise<RankedEntry[]> {
  checkKey(board, window, windowStart);
  checkInteger(k, 'k', 1);
  const rows = await db.query<{ rank: number; user_id: string; score: number }>(
    `SELECT rank, user_id, score FROM archived_entries
     WHERE board = $1 AND "window" = $2 AND window_start = $3
     ORDER BY rank, user_id
     LIMIT $4`,
    [board, window, windowStart, k],
  );
  return rows.map((row) => ({ rank: row.rank, userId: row.user_id, score: row.score }));
}

/** Whether a (board, window, windowStart) was archived, with or without entries. */
export async function isArchived(
  db: Queryable,
  board: string,
  window: string,
  windowStart: number,
): Promise<boolean> {
  checkKey(board, window, windowStart);
  const rows = await db.query(
    `SELECT 1 FROM archived_windows WHERE board = $1 AND "window" = $2 AND window_start = $3`,
    [board, window, windowStart],
  );
  return rows.length > 0;
}

function checkKey(board: unknown, window: unknown, windowStart: unknown): void {
  checkBoardId(board);
  checkWindow(window);
  checkInteger(windowStart, 'windowStart', Number.MIN_SAFE_INTEGER);
}

function checkClosedWindow(closed: ClosedWindow) {
  const { board, window, windowStart, windowEnd } = closed;
  checkKey(board, window, windowStart);
  if (window === 'all')
    throw new StoreInputError('window', "a closing window (the 'all' window never closes)", window);
  checkInteger(windowEnd, 'windowEnd', windowStart + 1);
  const entries = checkArray(closed.entries, 'entries');
  const ranks: number[] = [];
  const userIds: string[] = [];
  const scores: number[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    const { rank, userId, score } = (entry ?? {}) as Partial<RankedEntry>;
    ranks.push(checkInteger(rank, `entries[${i}].rank`, 1, 2_147_483_647));
    userIds.push(checkUserId(userId, `entries[${i}].userId`));
    scores.push(checkFinite(score, `entries[${i}].score`));
    if (seen.has(userId!))
      throw new StoreInputError(`entries[${i}].userId`, 'unique within the window', userId);
    seen.add(userId!);
  });
  return { board, window, windowStart, windowEnd, ranks, userIds, scores };
}
