/** The library's pieces the leaderboard's server uses as they are: the metrics and the archive store's interface. */
export type { ArchiveStore, ClosedTop } from '../topology/index.js';
export { type PartitionBacklog, pipelineMetrics } from '../topology/metrics.js';
