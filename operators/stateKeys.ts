/**
 * The key layout of the leaderboard's state. Per-partition keys sit under the partition's hash
 * tag (`{lb:p}:...`), beside its stream, so the apply script updates them atomically; the Lua
 * scripts build the same names from the `{lb:p}:` prefix. Everything that reads state goes
 * through these functions.
 */
import { partitionTag } from 'redis-streams-consumer-groups';
import type { WindowName } from './types.js';

/** Names one window instance: `all:0`, `day:1763856000000`. */
export function windowKey(window: WindowName, start: number): string {
  return `${window}:${start}`;
}

/** The `{lb:p}:` prefix the Lua scripts build per-partition key names from. */
export function partitionPrefix(name: string, partition: number): string {
  return `${partitionTag(name, partition)}:`;
}

/** A partition's scores of one (board, window instance): a sorted set, member = user id. */
export function scoresKey(name: string, partition: number, board: string, window: string): string {
  return `${partitionPrefix(name, partition)}z:${board}:${window}`;
}

/** A partition's late events (a stream, retained by time). */
export function lateKey(name: string, partition: number): string {
  return `${partitionPrefix(name, partition)}late`;
}

/** The cached, versioned top-K of a (board, window instance): a hash with version, body. */
export function snapshotKey(name: string, board: string, window: string): string {
  return `${name}:snap:${board}:${window}`;
}

/** The channel on which snapshot versions are announced: message `<board> <window> <version>`. */
export function snapshotChannel(name: string): string {
  return `${name}:snapshots`;
}

/**
 * The registration of a replay under way on a partition: a hash (id, board, windows, minStart,
 * frontier) that the apply script reads to mirror changes into the replay's shadow keys.
 */
export function replayKey(name: string, partition: number): string {
  return `${partitionPrefix(name, partition)}replay`;
}

/** The prefix of a replay's shadow keys, laid out as the live ones under `{lb:p}:`. */
export function shadowPrefix(name: string, partition: number, replayId: string): string {
  return `${partitionPrefix(name, partition)}replay:${replayId}:`;
}

/**
 * A counter bumped whenever state is replaced wholesale (a replay swapped in): the top-K stage
 * forgets what it knew of the tops and merges them again.
 */
export function stateGenerationKey(name: string): string {
  return `${name}:generation`;
}

/** The board configurations: a hash, field = board id, value = JSON. */
export function boardsKey(name: string): string {
  return `${name}:boards`;
}
