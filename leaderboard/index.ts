/**
 * The leaderboard behind one façade: its pipeline (on the stream-processing library), board
 * registry, reads, writes, workers, replay, verification, relational store and operations. The
 * server imports this module and nothing below it, and builds no Redis key.
 */

export {
  ReplayError,
  type ReplayProgress,
  type ReplayResult,
  type SnapshotDifference,
  type VerifyReport,
} from '../topology/index.js';
export { archiveStore } from './archive.js';
export type { BoardConfig, TieRule } from './boardConfig.js';
export { boardConfigSchema, DEFAULT_BOARD, FIXED_FIELDS, groupSettings, outOfBounds } from './boardConfig.js';
export type { BoardPage, BoardRegistryOptions } from './boards.js';
export { BoardConflictError, BoardLimitError, BoardRegistry, DEFAULT_MAX_BOARDS } from './boards.js';
export type { ClusterPlan, MasterPlan } from './clusterPlan.js';
export { clusterPlan } from './clusterPlan.js';
export { DEFAULTS } from './defaults.js';
export type { EventWriterOptions } from './eventWriter.js';
export { EventWriter } from './eventWriter.js';
export type { HiddenUsersOptions } from './hidden.js';
export { HiddenUsers } from './hidden.js';
export {
  type ArchiveStore,
  type ClosedTop,
  type PartitionBacklog,
  pipelineMetrics,
} from './metricsAndStores.js';
export type { DeadLetter, PartitionGroupInfo } from './operations.js';
export {
  createAppendConnection,
  ReplicationTimeoutError,
  StreamAdmin,
  streamAdmin,
  workersAlive,
} from './operations.js';
export { describeLeaderboard, leaderboardTopology, scoreStreams } from './pipeline.js';
export type { BoardEntry, BoardWindow, SnapshotRead, UserStanding } from './queries.js';
export { LeaderboardQueries } from './queries.js';
export type { BoardReplayOptions } from './replay.js';
export { replayBoard } from './replay.js';
export * from './rules.js';
export type { ScoreEvent } from './scoreEvents.js';
export { scoreEventCodec } from './scoreEvents.js';
export type { Announcement } from './snapshotFeed.js';
export { SnapshotFeed } from './snapshotFeed.js';
export * from './store/index.js';
export { verifyBoards } from './verify.js';
export type { BoardSnapshot, WorkerOptions } from './workers.js';
export { LeaderboardWorkers } from './workers.js';
