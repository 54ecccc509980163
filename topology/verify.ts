/**
 * The tops' invariant, checked: once the streams are drained and a refresh interval has passed,
 * every top-K snapshot equals a fresh merge of the partitions, and every user's read (rank and
 * score) agrees with the snapshot's entry. `leaderboard verify` runs it; so does the property test
 * of the snapshots. Useful after an incident or a replay.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { mergeTop } from '../operators/mergeTop.js';
import type { RankedEntry } from '../operators/ranking.js';
import { snapshotKey, windowKey } from '../operators/stateKeys.js';
import { windowFor } from '../operators/timeWindows.js';
import type { BoardConfig, WindowName } from '../operators/types.js';
import { DEFAULTS } from './defaults.js';
import { LeaderboardQueries } from './queries.js';
import { scanKeys } from './scanKeys.js';

export interface VerifyOptions {
  redis: Redis | Cluster;
  /** The boards to check (each one's snapshots of every window it keeps). */
  boards: readonly BoardConfig[];
  /** Only this window. */
  window?: WindowName;
  name?: string;
  partitions?: number;
  /**
   * A top that differs is read again after this long, up to three times, before it is reported:
   * on a running service a difference may be a merge still on its way. Default 500 ms; 0 reports
   * the first difference.
   */
  settleMs?: number;
}

/** One top whose snapshot is not what a fresh merge of the partitions gives. */
export interface SnapshotDifference {
  board: string;
  window: WindowName;
  windowStart: number;
  /** `entries`: the snapshot's list differs; `missing`: a top with entries has no snapshot; `read`: a user read disagrees. */
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
 * Compares every snapshot of the given boards (and the current instance of each window, which
 * must have a snapshot once it has scores) with a fresh merge of the partitions, and each listed
 * user's rank and score with a fresh read.
 *
 * @example
 * const report = await verifySnapshots({ redis, boards: registry.list() });
 * for (const d of report.differences) console.log(d.board, d.window, d.detail);
 */
export async function verifySnapshots(options: VerifyOptions): Promise<VerifyReport> {
  const { redis } = options;
  const name = options.name ?? DEFAULTS.name;
  const partitions = options.partitions ?? DEFAULTS.partitions;
  const settleMs = options.settleMs ?? 500;
  const queries = new LeaderboardQueries(redis, { name, partitions });
  const report: VerifyReport = { compared: 0, differences: [] };

  for (const board of options.boards) {
    const windows = board.windows.filter((w) => options.window === undefined || w === options.window);
    for (const window of windows) {
      const starts = new Set<number>([windowFor(window, Date.now()).start]);
      const prefix = snapshotKey(name, board.id, `${window}:`);
      for (const key of await scanKeys(redis, `${prefix}*`)) {
        const start = Number(key.slice(prefix.length));
        if (Number.isFinite(start)) starts.add(start);
      }
      for (const start of [...starts].sort((a, b) => a - b)) {
        let difference: SnapshotDifference | undefined;
        for (let attempt = 0; attempt < 4; attempt++) {
          if (attempt > 0) await sleep(settleMs);
          difference = await compareTop(redis, queries, name, partitions, board, window, start);
          if (!difference || settleMs === 0) break;
        }
        report.compared++;
        if (difference) report.differences.push(difference);
      }
    }
  }
  return report;
}

async function compareTop(
  redis: Redis | Cluster,
  queries: LeaderboardQueries,
  name: string,
  partitions: number,
  board: BoardConfig,
  window: WindowName,
  windowStart: number,
): Promise<SnapshotDifference | undefined> {
  const key = windowKey(window, windowStart);
  const [stored, fresh] = await Promise.all([
    queries.snapshot(board.id, key),
    mergeTop({ redis, name, partitions, board: board.id, window: key, k: board.topK, order: board.order }),
  ]);
  const snapshot = stored?.entries ?? [];
  const base = { board: board.id, window, windowStart, snapshot, fresh };
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
    const standing = await queries.standing(board.id, key, board.order, entry.userId);
    if (!standing || standing.rank !== entry.rank || standing.score !== entry.score) {
      const read = standing ? `rank ${standing.rank}, score ${standing.score}` : 'no score';
      return {
        ...base,
        kind: 'read',
        detail: `user '${entry.userId}' is listed at rank ${entry.rank} with ${entry.score}; a read says ${read}`,
      };
    }
  }
  return undefined;
}

/** The first place where two ranked lists differ, in words; undefined when they are equal. */
function describeDifference(snapshot: RankedEntry[], fresh: RankedEntry[]): string | undefined {
  const length = Math.max(snapshot.length, fresh.length);
  const show = (e: RankedEntry | undefined) => (e ? `#${e.rank} ${e.userId} ${e.score}` : 'nothing');
  for (let i = 0; i < length; i++) {
    const a = snapshot[i];
    const b = fresh[i];
    if (a?.rank !== b?.rank || a?.userId !== b?.userId || a?.score !== b?.score) {
      return `position ${i + 1}: the snapshot has ${show(a)}, a fresh merge ${show(b)}`;
    }
  }
  return undefined;
}
