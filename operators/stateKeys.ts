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

/** The board configurations: a hash, field = board id, value = JSON. */
export function boardsKey(name: string): string {
  return `${name}:boards`;
}
