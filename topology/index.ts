/**
 * The stream-processing library's public API: define a windowed top-K pipeline with the DSL, run
 * it, query its state, replay it, test it. It knows nothing of boards, users or HTTP.
 */

export type { ArchivedTop, ArchiveStore, ClosedTop } from '../operators/archiveSink.js';
export type { Codec, Decoded } from '../operators/codec.js';
export { jsonCodec, WATERMARK_FIELD } from '../operators/codec.js';
export type {
  GroupLookup,
  GroupSpec,
  LateRecord,
  Order,
  RankedEntry,
  Reducer,
  Snapshot,
  TieBreak,
  WindowInstance,
} from '../operators/types.js';
export type { TimeWindow, WindowDefinition } from '../operators/windowing.js';
export type { StageDescription } from './describe.js';
export type { MembersTarget } from './members.js';
export { hiddenMembers, setHidden } from './members.js';
export type { PipelineProducerOptions, StreamInput } from './producer.js';
export { PipelineProducer } from './producer.js';
export type { ReplayOptions, ReplayProgress, ReplayResult } from './replay.js';
export { ReplayError, replayPipeline } from './replay.js';
export type { RunningPipeline, RunOptions } from './runner.js';
export { runPipeline } from './runner.js';
export type { ArchiveOptions, Sink, SinkContext } from './sinks.js';
export { archive, lateRecords, snapshots } from './sinks.js';
export type { Standing, StoredSnapshot } from './store.js';
export { TopKStore } from './store.js';
export { TopologyTestDriver } from './testDriver.js';
export type { AggregateOptions, Consumed, GroupSettings, GroupSource, TopKOptions } from './topology.js';
export { AggregatedBuilder, StreamBuilder, TopKBuilder, Topology } from './topology.js';
export type { SnapshotDifference, VerifyReport } from './verify.js';
export { verifySnapshots } from './verify.js';
export * from './windows/index.js';
