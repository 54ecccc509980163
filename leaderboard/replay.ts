/**
 * Rebuilds a board from the retained streams, live: the library's pipeline replay, for a board.
 */
import type { Cluster, Redis } from 'ioredis';
import { type ReplayProgress, type ReplayResult, replayPipeline } from '../topology/index.js';
import type { BoardRegistry } from './boards.js';
import { DEFAULTS } from './defaults.js';
import { leaderboardTopology } from './pipeline.js';

export interface BoardReplayOptions {
  redis: Redis | Cluster;
  boards: BoardRegistry;
  board: string;
  /** The windows to rebuild. Default: all of the board's. */
  windows?: readonly string[];
  /** Replay from this entry id (inclusive) or time; default: the start of the retained streams. */
  from?: string | Date;
  /** Also rebuild window instances that began before the replay's first entry. */
  partial?: boolean;
  name?: string;
  partitions?: number;
  chunkSize?: number;
  concurrency?: number;
  onProgress?: (progress: ReplayProgress) => void;
  signal?: AbortSignal;
}

/**
 * @example
 * const result = await replayBoard({ redis, boards, board: 'global', windows: ['day'] });
 * // result.swapped: ['day:1795392000000'], result.skippedPartial: [], result.replayed, ...
 */
export function replayBoard(options: BoardReplayOptions): Promise<ReplayResult> {
  const { boards, board, ...rest } = options;
  return replayPipeline({
    ...rest,
    topology: leaderboardTopology(boards),
    group: board,
    name: options.name ?? DEFAULTS.name,
    partitions: options.partitions ?? DEFAULTS.partitions,
    consumerGroup: DEFAULTS.group,
  });
}
