/**
 * The tops' invariant for boards (`leaderboard verify`): every snapshot against a fresh merge of
 * the partitions and each listed user's read.
 */
import type { Cluster, Redis } from 'ioredis';
import { type VerifyReport, verifySnapshots } from '../topology/index.js';
import type { BoardRegistry } from './boards.js';
import { DEFAULTS } from './defaults.js';
import { leaderboardTopology } from './pipeline.js';

/**
 * @example
 * const report = await verifyBoards({ redis, boards, board: 'global' });
 */
export function verifyBoards(options: {
  redis: Redis | Cluster;
  boards: BoardRegistry;
  /** One board; default every board. */
  board?: string;
  window?: string;
  name?: string;
  partitions?: number;
  settleMs?: number;
}): Promise<VerifyReport> {
  const { boards } = options;
  return verifySnapshots({
    topology: leaderboardTopology(boards),
    redis: options.redis,
    partitions: options.partitions ?? DEFAULTS.partitions,
    name: options.name ?? DEFAULTS.name,
    groups: options.board === undefined ? boards.list().map((b) => b.id) : [options.board],
    window: options.window,
    settleMs: options.settleMs,
  });
}
