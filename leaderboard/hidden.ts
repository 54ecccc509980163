/**
 * Hiding a player without deleting their scores (banned, or under review): the library's hidden
 * members, for boards. A hidden user vanishes from every read of the board (top, ranks, totals,
 * percentiles, around, friends, entries, live) from the board's next snapshots, which this merges
 * at once; their events keep counting, and showing them again restores them at their current score.
 */
import type { Cluster, Redis } from 'ioredis';
import { hiddenMembers, setHidden } from '../topology/index.js';
import type { BoardRegistry } from './boards.js';
import { DEFAULTS } from './defaults.js';
import { leaderboardTopology } from './pipeline.js';

export interface HiddenUsersOptions {
  redis: Redis | Cluster;
  boards: BoardRegistry;
  name?: string;
  partitions?: number;
}

/**
 * @example
 * const hidden = new HiddenUsers({ redis, boards });
 * await hidden.set('global', 'cheater42', true);
 */
export class HiddenUsers {
  constructor(private readonly options: HiddenUsersOptions) {}

  private target() {
    const { redis, boards } = this.options;
    return {
      topology: leaderboardTopology(boards),
      redis,
      name: this.options.name ?? DEFAULTS.name,
      partitions: this.options.partitions ?? DEFAULTS.partitions,
    };
  }

  /** Hides (true) or shows a user on a board; resolves with whether that changed anything. */
  set(board: string, userId: string, hidden: boolean): Promise<boolean> {
    return setHidden(this.target(), board, userId, hidden);
  }

  /** The board's hidden users. */
  list(board: string): Promise<string[]> {
    return hiddenMembers(this.target(), board);
  }
}
