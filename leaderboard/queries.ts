/**
 * The leaderboard's reads, on the pipeline's store: a board's window instance at a time, its
 * top-K snapshot, a user's standing (rank, score, total, percentile), the users around a user,
 * and the ranking of a list of users (a user and their friends), with user ids for members.
 */
import type { Cluster, Redis } from 'ioredis';
import { type RankedEntry, TopKStore, type WindowInstance } from '../topology/index.js';
import type { BoardRegistry } from './boards.js';
import { DEFAULTS } from './defaults.js';
import { leaderboardTopology } from './pipeline.js';
import type { ScoreEvent } from './scoreEvents.js';

/** One row of a board's ranking. */
export interface BoardEntry {
  rank: number;
  userId: string;
  score: number;
}

export interface SnapshotRead {
  version: number;
  updatedAt: number;
  entries: BoardEntry[];
}

export interface UserStanding {
  userId: string;
  score: number;
  rank: number;
  total: number;
  /** Share of the other users ranked below this one, 0..100 (100: nobody is above). */
  percentile: number;
}

/** A board's window instance: the window, its start and end (`null` end: the window never ends). */
export interface BoardWindow {
  window: string;
  windowStart: number;
  windowEnd: number | null;
  /** The instance's key, `<window>:<start>`. */
  key: string;
  instance: WindowInstance;
}

/**
 * @example
 * const queries = new LeaderboardQueries(redis, boards, { partitions: 16 });
 * const day = queries.windowAt('global', 'day', Date.now())!;
 * const me = await queries.standing('global', day, 'ann');
 */
export class LeaderboardQueries {
  readonly name: string;
  readonly partitions: number;
  readonly store: TopKStore<ScoreEvent>;

  constructor(
    redis: Redis | Cluster,
    boards: BoardRegistry,
    options: { name?: string; partitions?: number } = {},
  ) {
    this.name = options.name ?? DEFAULTS.name;
    this.partitions = options.partitions ?? DEFAULTS.partitions;
    this.store = new TopKStore(leaderboardTopology(boards), {
      redis,
      name: this.name,
      partitions: this.partitions,
    });
  }

  /** The instance of a board's window that holds time `at`; undefined for an unknown board or window. */
  windowAt(board: string, window: string, at: number): BoardWindow | undefined {
    const instance = this.store.windowAt(board, window, at);
    if (!instance) return undefined;
    return {
      window,
      windowStart: instance.start,
      windowEnd: Number.isFinite(instance.end) ? instance.end : null,
      key: instance.key,
      instance,
    };
  }

  /** The cached top-K snapshot, or undefined when none was written yet. */
  async snapshot(board: string, windowKey: string): Promise<SnapshotRead | undefined> {
    const stored = await this.store.snapshot(board, windowKey);
    return (
      stored && { version: stored.version, updatedAt: stored.updatedAt, entries: stored.entries.map(asEntry) }
    );
  }

  /** Number of users with a score in the window instance. */
  total(board: string, window: BoardWindow): Promise<number> {
    return this.store.total(board, window.key);
  }

  /** A user's score, rank, total and percentile; undefined without a score. */
  async standing(board: string, window: BoardWindow, userId: string): Promise<UserStanding | undefined> {
    const standing = await this.store.standing(board, window.instance, userId);
    return (
      standing && {
        userId,
        score: standing.score,
        rank: standing.rank,
        total: standing.total,
        percentile: standing.percentile,
      }
    );
  }

  /** The user's entry and up to `n` entries above and below it, in rank order; undefined without a score. */
  async around(
    board: string,
    window: BoardWindow,
    userId: string,
    n: number,
  ): Promise<BoardEntry[] | undefined> {
    return (await this.store.around(board, window.instance, userId, n))?.map(asEntry);
  }

  /** Scores of the given users that have one, fetched per partition in one round. */
  scoresOf(board: string, window: BoardWindow, userIds: readonly string[]): Promise<Map<string, number>> {
    return this.store.scoresOf(board, window.instance, userIds);
  }

  /**
   * The whole board in rank order, page by page: `after` is the previous page's `next` (none: the
   * first page). A user whose score does not change while a client pages appears exactly once.
   * @throws RangeError for a cursor no page gave out.
   */
  async entries(
    board: string,
    window: BoardWindow,
    options: { after?: string; limit: number },
  ): Promise<{ entries: BoardEntry[]; next: string | null }> {
    const page = await this.store.page(board, window.instance, options);
    return { entries: page.entries.map(asEntry), next: page.next };
  }

  /** The users ranked among themselves (e.g. a user and their friends). */
  async rankAmong(
    board: string,
    window: BoardWindow,
    userIds: readonly string[],
    k: number,
  ): Promise<BoardEntry[]> {
    return (await this.store.rankAmong(board, window.instance, userIds, k)).map(asEntry);
  }
}

function asEntry(entry: RankedEntry): BoardEntry {
  return { rank: entry.rank, userId: entry.member, score: entry.score };
}
