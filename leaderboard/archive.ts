/**
 * The pipeline's archive sink's store for the leaderboard: closed windows' final tops in the
 * relational store (PostgreSQL or PGlite), where past boards stay readable after Redis' retention.
 */
import type { ArchiveStore } from '../topology/index.js';
import { archiveWindow, type Database, StoreInputError } from './store/index.js';

/**
 * @example
 * new LeaderboardWorkers({ redis, boards, archive: archiveStore(db) });
 */
export function archiveStore(db: Database): ArchiveStore {
  return {
    archive: (closed) =>
      archiveWindow(db, {
        board: closed.group,
        window: closed.window,
        windowStart: closed.windowStart,
        windowEnd: closed.windowEnd,
        entries: closed.entries.map((e) => ({ rank: e.rank, userId: e.member, score: e.score })),
      }),
    // An invalid top would fail forever: the sink stops with it instead of retrying.
    isRetryable: (error) => !(error instanceof StoreInputError),
  };
}
