/**
 * The key layout of a pipeline's state, and its only owner. Per-partition keys sit under the
 * partition's hash tag (consumer-groups' `partitionTag`), beside its stream, so one script updates
 * them atomically and, on Redis Cluster, in one slot; the scripts receive every key in KEYS and
 * never build one. Snapshots of one group share a hash tag of their own (one slot per group,
 * spread over the shards), with the sharded channel that announces them.
 *
 *   {tag}:z:<group>:<window key>   a window instance's scores (sorted set, member -> score)
 *   {tag}:t:<group>:<window key>   event time of each member's score (hash; `last`, `earliest`)
 *   {tag}:h:<group>:<window key>   the scores of the group's hidden members (sorted set)
 *   {tag}:hidden:<group>          the group's hidden members in this partition (set)
 *   {tag}:dd:<group>              de-duplication marks (sorted set "<member>\n<id>" -> arrival ms)
 *   {tag}:late                    late records (stream, retained by time)
 *   {tag}:closing                 window instances with state, by when they close (sorted set)
 *   {tag}:archived                closed instances, archived, whose state is still kept, by when
 *                                 it expires (sorted set)
 *   {tag}:replay                  a replay under way (hash); {tag}:replay:<id>:... its shadow keys
 *   {<name>:snap:<group>}:<window key>   a top-K snapshot (hash: version, updatedAt, entries, seen)
 *   {<name>:snap:<group>}:announce       the group's snapshot channel (SPUBLISH)
 *
 * A window key is `<window name>:<start ms>` (`all:0`, `day:1763856000000`, `PT6H:1763856000000`).
 */
import { partitionKeys, partitionTag } from 'redis-streams-consumer-groups';

/** Names one window instance: `all:0`, `day:1763856000000`. */
export function windowKey(window: string, start: number): string {
  return `${window}:${start}`;
}

/** The window name and start of a window key. */
export function parseWindowKey(key: string): { window: string; start: number } {
  const colon = key.lastIndexOf(':');
  return { window: key.slice(0, colon), start: Number(key.slice(colon + 1)) };
}

/** The keys of one partition of a pipeline: the consumer-groups ones and the state's. */
export interface StateKeys {
  stream: string;
  lease: string;
  checkpoint: string;
  dlq: string;
  late: string;
  closing: string;
  /** Closed instances the archive took whose state is still kept, by its expiry. */
  archived: string;
  replay: string;
  /** A window instance's scores. */
  scores(group: string, window: string): string;
  /** A window instance's event times (`last`, `earliest`). */
  times(group: string, window: string): string;
  /** A window instance's scores of hidden members. */
  hiddenScores(group: string, window: string): string;
  /** The group's hidden members (of this partition). */
  hidden(group: string): string;
  dedupe(group: string): string;
  /** The keys of a replay's shadow state, laid out as the live ones. */
  shadow(replayId: string): ShadowKeys;
}

export interface ShadowKeys {
  scores(group: string, window: string): string;
  times(group: string, window: string): string;
  hiddenScores(group: string, window: string): string;
  dedupe(group: string): string;
  /** The window instances the shadow holds (hash: window key -> the live key's expiry, 0 none). */
  instances: string;
}

const cache = new Map<string, StateKeys>();

/**
 * @example
 * stateKeys('lb', 7).scores('global', 'all:0'); // '{lb:7}:z:global:all:0' (the tag may carry a suffix)
 */
export function stateKeys(name: string, partition: number): StateKeys {
  const id = `${name}\u0000${partition}`;
  let keys = cache.get(id);
  if (!keys) {
    const tag = partitionTag(name, partition);
    const base = partitionKeys(name, partition);
    keys = {
      stream: base.stream,
      lease: base.lease,
      checkpoint: base.checkpoint,
      dlq: base.dlq,
      late: `${tag}:late`,
      closing: `${tag}:closing`,
      archived: `${tag}:archived`,
      replay: `${tag}:replay`,
      scores: (group, window) => `${tag}:z:${group}:${window}`,
      times: (group, window) => `${tag}:t:${group}:${window}`,
      hiddenScores: (group, window) => `${tag}:h:${group}:${window}`,
      hidden: (group) => `${tag}:hidden:${group}`,
      dedupe: (group) => `${tag}:dd:${group}`,
      shadow: (replayId) => {
        const prefix = `${tag}:replay:${replayId}:`;
        return {
          scores: (group, window) => `${prefix}z:${group}:${window}`,
          times: (group, window) => `${prefix}t:${group}:${window}`,
          hiddenScores: (group, window) => `${prefix}h:${group}:${window}`,
          dedupe: (group) => `${prefix}dd:${group}`,
          instances: `${prefix}instances`,
        };
      },
    };
    if (cache.size > 100_000) cache.clear();
    cache.set(id, keys);
  }
  return keys;
}

/** A window instance's member in a partition's closing set. */
export function closingMember(group: string, window: string): string {
  return `${group} ${window}`;
}

/** The group and window key of a closing set's member. */
export function parseClosingMember(member: string): { group: string; window: string } {
  const space = member.indexOf(' ');
  return { group: member.slice(0, space), window: member.slice(space + 1) };
}

/** The cached, versioned top-K of a (group, window instance). */
export function snapshotKey(name: string, group: string, window: string): string {
  return `{${name}:snap:${group}}:${window}`;
}

/** The sharded channel that announces a group's snapshots: message `<window key> <version>`. */
export function snapshotChannel(name: string, group: string): string {
  return `{${name}:snap:${group}}:announce`;
}

/** The prefix of a group's snapshot keys, for tools that list them. */
export function snapshotKeyPrefix(name: string, group: string): string {
  return `{${name}:snap:${group}}:`;
}
