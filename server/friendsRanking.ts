/**
 * A user's standing among their friends: friend ids from the relational store, their scores
 * fetched per partition in one pipelined round, ranked in memory. Users with very large friend
 * lists get a precomputed result, refreshed in the background while it is being read.
 */

import {
  type BoardEntry,
  type BoardWindow,
  getFriends,
  type LeaderboardQueries,
  type Queryable,
} from '../leaderboard/index.js';

export interface FriendsRankingOptions {
  /** Friend-list size from which results are precomputed. Default 1000. */
  threshold?: number;
  /** How often precomputed results are refreshed, ms. Default 2000. */
  refreshMs?: number;
  /** A precomputed result nobody read for this long is dropped, ms. Default 5 minutes. */
  idleMs?: number;
}

interface Precomputed {
  board: string;
  window: BoardWindow;
  userId: string;
  entries: BoardEntry[];
  computedAt: number;
  readAt: number;
}

export class FriendsRanking {
  private readonly precomputed = new Map<string, Precomputed>();
  private readonly timer: NodeJS.Timeout;
  readonly threshold: number;
  private readonly idleMs: number;

  constructor(
    private readonly db: Queryable,
    private readonly queries: LeaderboardQueries,
    options: FriendsRankingOptions = {},
  ) {
    this.threshold = options.threshold ?? 1000;
    this.idleMs = options.idleMs ?? 300_000;
    this.timer = setInterval(() => void this.refreshAll().catch(() => {}), options.refreshMs ?? 2000);
    this.timer.unref();
  }

  /** The user and their friends with a score in the window, ranked among themselves. */
  async rank(board: string, window: BoardWindow, userId: string, k: number): Promise<BoardEntry[]> {
    const key = `${board} ${window.key} ${userId}`;
    const ready = this.precomputed.get(key);
    if (ready) {
      ready.readAt = Date.now();
      return ready.entries.slice(0, k);
    }
    const friends = await getFriends(this.db, userId);
    const entries = await this.queries.rankAmong(
      board,
      window,
      [userId, ...friends],
      Number.MAX_SAFE_INTEGER,
    );
    if (friends.length >= this.threshold) {
      const now = Date.now();
      this.precomputed.set(key, { board, window, userId, entries, computedAt: now, readAt: now });
    }
    return entries.slice(0, k);
  }

  /** Drops precomputed results of a user whose friend list changed. */
  invalidate(userId: string): void {
    for (const [key, value] of this.precomputed) if (value.userId === userId) this.precomputed.delete(key);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async refreshAll(): Promise<void> {
    const now = Date.now();
    for (const [key, value] of this.precomputed) {
      if (now - value.readAt > this.idleMs) {
        this.precomputed.delete(key);
        continue;
      }
      const friends = await getFriends(this.db, value.userId);
      const ids = [value.userId, ...friends];
      value.entries = await this.queries.rankAmong(value.board, value.window, ids, Number.MAX_SAFE_INTEGER);
      value.computedAt = Date.now();
    }
  }
}
