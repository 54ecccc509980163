/**
 * A pipeline's tops' invariant, checked: once the streams are drained and a refresh interval has
 * passed, every top-K snapshot equals a fresh merge of the partitions, and every member's read
 * (rank and score) agrees with the snapshot's entry. `leaderboard verify` runs it; so does the
 * property test of the snapshots. Useful after an incident or a replay.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { mergeTop } from '../operators/internal/mergeTop.js';
import { snapshotKeyPrefix } from '../operators/stateKeys.js';
import type { GroupSpec, RankedEntry, WindowInstance } from '../operators/types.js';
import type { WindowDefinition } from '../operators/windowing.js';
import { scanKeys } from './scanKeys.js';
import { TopKStore } from './store.js';
import type { Topology } from './topology.js';

export interface VerifyOptions<T> {
  topology: Topology<T>;
  redis: Redis | Cluster;
  partitions: number;
  /** The groups to check (each one's snapshots of every window it keeps). */
  groups: readonly string[];
  /** Only this window (name). */
  window?: string;
  /** The stream family's name. Default: the topology's stream. */
  name?: string;
  /**
   * A top that differs is read again after this long, up to three times, before it is reported:
   * on a running service a difference may be a merge still on its way. Default 500 ms; 0 reports
   * the first difference.
   */
  settleMs?: number;
}

/** One top whose snapshot is not what a fresh merge of the partitions gives. */
export interface SnapshotDifference {
  group: string;
  window: string;
  windowStart: number;
  /** `entries`: the snapshot's list differs; `missing`: a top with entries has no snapshot; `read`: a member's read disagrees. */
  kind: 'entries' | 'missing' | 'read';
  detail: string;
  snapshot: RankedEntry[];
  fresh: RankedEntry[];
}

export interface VerifyReport {
  /** Tops compared. */
  compared: number;
  differences: SnapshotDifference[];
}

/**
 * Compares every snapshot of the given groups (and the current instance of each window, which
 * must have a snapshot once it has scores) with a fresh merge of the partitions, and each listed
 * member's rank and score with a fresh read.
 *
 * @example
 * const report = await verifySnapshots({ topology, redis, partitions: 16, groups: ['global'] });
 * for (const d of report.differences) console.log(d.group, d.window, d.detail);
 */
export async function verifySnapshots<T>(options: VerifyOptions<T>): Promise<VerifyReport> {
  const { redis, topology, partitions } = options;
  const name = options.name ?? topology.definition.stream;
  const settleMs = options.settleMs ?? 500;
  const store = new TopKStore(topology, { redis, partitions, name });
  const report: VerifyReport = { compared: 0, differences: [] };

  for (const group of options.groups) {
    const spec = topology.definition.spec(group);
    if (!spec) continue;
    const prefix = snapshotKeyPrefix(name, group);
    const stored = await scanKeys(redis, `${prefix}*`);
    for (const definition of spec.windows.filter(
      (w) => options.window === undefined || w.name === options.window,
    )) {
      const starts = new Set<number>([definition.windowAt(Date.now()).start]);
      for (const key of stored) {
        const rest = key.slice(prefix.length);
        if (!rest.startsWith(`${definition.name}:`)) continue;
        const start = Number(rest.slice(definition.name.length + 1));
        if (Number.isFinite(start)) starts.add(start);
      }
      for (const start of [...starts].sort((a, b) => a - b)) {
        const instance = instanceOf(definition, start);
        if (!instance) continue;
        let difference: SnapshotDifference | undefined;
        for (let attempt = 0; attempt < 4; attempt++) {
          if (attempt > 0) await sleep(settleMs);
          difference = await compareTop(store, { redis, name, partitions }, group, instance, spec);
          if (!difference || settleMs === 0) break;
        }
        report.compared++;
        if (difference) report.differences.push(difference);
      }
    }
  }
  return report;
}

function instanceOf(definition: WindowDefinition, start: number): WindowInstance | undefined {
  const window = definition.windowStartingAt(start);
  return (
    window && { definition, start: window.start, end: window.end, key: `${definition.name}:${window.start}` }
  );
}

async function compareTop<T>(
  store: TopKStore<T>,
  target: { redis: Redis | Cluster; name: string; partitions: number },
  group: string,
  window: WindowInstance,
  spec: GroupSpec,
): Promise<SnapshotDifference | undefined> {
  const [stored, merged] = await Promise.all([
    store.snapshot(group, window.key),
    mergeTop(target, group, window.key, spec),
  ]);
  const fresh = merged.entries;
  const snapshot = stored?.entries ?? [];
  const base = { group, window: window.definition.name, windowStart: window.start, snapshot, fresh };
  if (!stored) {
    return fresh.length === 0
      ? undefined
      : {
          ...base,
          kind: 'missing',
          detail: `no snapshot, while the partitions hold ${fresh.length} entries`,
        };
  }
  const differs = describeDifference(snapshot, fresh);
  if (differs) return { ...base, kind: 'entries', detail: differs };
  for (const entry of snapshot) {
    const standing = await store.standing(group, window, entry.member);
    if (!standing || standing.rank !== entry.rank || standing.score !== entry.score) {
      const read = standing ? `rank ${standing.rank}, score ${standing.score}` : 'no score';
      return {
        ...base,
        kind: 'read',
        detail: `member '${entry.member}' is listed at rank ${entry.rank} with ${entry.score}; a read says ${read}`,
      };
    }
  }
  return undefined;
}

/** The first place where two ranked lists differ, in words; undefined when they are equal. */
function describeDifference(snapshot: RankedEntry[], fresh: RankedEntry[]): string | undefined {
  const length = Math.max(snapshot.length, fresh.length);
  const show = (e: RankedEntry | undefined) => (e ? `#${e.rank} ${e.member} ${e.score}` : 'nothing');
  for (let i = 0; i < length; i++) {
    const a = snapshot[i];
    const b = fresh[i];
    if (a?.rank !== b?.rank || a?.member !== b?.member || a?.score !== b?.score) {
      return `position ${i + 1}: the snapshot has ${show(a)}, a fresh merge ${show(b)}`;
    }
  }
  return undefined;
}
