/**
 * The leaderboard, as one pipeline of the library: score events partitioned by user, each board a
 * group with its own policy, windows, order and K (from the board registry), a repeated eventId
 * counted once, the closed windows' final tops archived to the relational store.
 */
import {
  type ArchiveStore,
  archive,
  type GroupSource,
  type StreamInput,
  Topology,
} from '../topology/index.js';
import { DEFAULTS } from './defaults.js';
import { type ScoreEvent, scoreEventCodec } from './scoreEvents.js';

/** The pipeline's input: score events, in the partition of their user, in the compact layout. */
export const scoreStreams: StreamInput<ScoreEvent> = {
  stream: DEFAULTS.name,
  codec: scoreEventCodec,
  partitionKey: (e) => e.userId,
};

/**
 * @example
 * const topology = leaderboardTopology(boards, { archive: archiveStore(db) });
 * console.log(topology.describe());
 */
export function leaderboardTopology(boards: GroupSource, sinks: { archive?: ArchiveStore } = {}) {
  return Topology.fromStreams(scoreStreams.stream, { ...scoreStreams, eventTime: (e) => e.ts })
    .aggregate({
      group: (e) => e.board,
      member: (e) => e.userId,
      value: (e) => e.value,
      id: (e) => e.eventId,
      groups: boards,
    })
    .topK(100)
    .to(...(sinks.archive ? [archive(sinks.archive)] : []))
    .named('leaderboard');
}

/**
 * The leaderboard's graph, as `leaderboard describe` prints it (no board needed).
 *
 * @example
 * console.log(describeLeaderboard());
 */
export function describeLeaderboard(): string {
  return leaderboardTopology({ noun: 'board', settings: () => undefined }).describe();
}
