/**
 * Keeps the global top-K of every (board, window instance) fresh: merges a top as soon as the
 * apply stage reports that a batch may have changed it, and writes each result as a versioned
 * snapshot that is published on a channel.
 */
import type { Cluster, Redis } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { Observable, type OperatorFunction } from 'rxjs';
import { type RankedEntry, rank } from './ranking.js';
import { retentionExpiry } from './retention.js';
import { defineOperatorScripts } from './scripts.js';
import { scoresKey, snapshotChannel, snapshotKey, stateGenerationKey, windowKey } from './stateKeys.js';
import type { AppliedBatch, BoardConfig, WindowName } from './types.js';

export interface TopKOptions {
  redis: Redis | Cluster;
  name: string;
  partitions: number;
  boards: (id: string) => BoardConfig | undefined;
  /** The least time between the starts of two merges of one top, ms. Default 50. */
  refreshMs?: number;
  /** Called when a merge failed; the top stays dirty and is merged again. */
  onError?: (error: unknown) => void;
}

/** A new version of a (board, window instance) top-K, as written to the cache. */
export interface Snapshot {
  board: string;
  window: WindowName;
  windowStart: number;
  version: number;
  updatedAt: number;
  entries: RankedEntry[];
  /** Arrival time of the oldest entry whose change this snapshot is the first to show. */
  oldestArrival: number;
}

interface PairState {
  board: string;
  window: WindowName;
  windowStart: number;
  /** Changed since the last merge started. */
  dirty: boolean;
  merging: boolean;
  /** A merge is waiting for its turn (the next event-loop turn, or the refresh interval). */
  scheduled: boolean;
  lastStartedAt: number;
  oldestArrival: number;
}

/** Pairs nobody changed for this long are forgotten (their next change merges at once). */
const IDLE_MS = 60_000;

/**
 * Turns applied batches into top-K snapshots.
 *
 * The apply script judges, from each partition's own state and atomically with the writes,
 * which windows' tops a batch may have changed (see `topChanges.lua`); any other change (most of
 * them, on a big board) costs nothing here. A marked top is merged on the next turn of the event
 * loop, or, when its last merge started less than `refreshMs` ago, once that much time has
 * passed; one merge of a top runs at a time, and a top marked while its merge runs is merged
 * again after it, so the last merge always starts after the last change it must show.
 * Snapshots written by merges of other processes are kept when they saw more (`writeSnapshot-1`).
 *
 * ## Example
 * ```ts
 * import { topK } from './topK.js';
 * applied$.pipe(topK({ redis, name: 'lb', partitions: 16, boards })).subscribe((snapshot) => {
 *   console.log(snapshot.board, snapshot.window, snapshot.version, snapshot.entries[0]);
 * });
 * ```
 *
 * @see applyBatch
 * @see refreshSnapshot
 * @param options Where the partitions' scores are, and how often a top may be merged.
 * @return A function that returns an Observable of the snapshots written.
 */
export function topK(options: TopKOptions): OperatorFunction<AppliedBatch, Snapshot> {
  const { redis, name, partitions, boards } = options;
  const refreshMs = options.refreshMs ?? 50;
  defineOperatorScripts(redis);

  return (applied) =>
    new Observable<Snapshot>((subscriber) => {
      const pairs = new Map<string, PairState>();
      const running = new Set<Promise<void>>();
      const timers = new Set<NodeJS.Timeout | NodeJS.Immediate>();
      let completing = false;
      const clearTimers = () => {
        for (const timer of timers) {
          clearTimeout(timer as NodeJS.Timeout);
          clearImmediate(timer as NodeJS.Immediate);
        }
        timers.clear();
      };

      const schedule = (pair: PairState) => {
        if (pair.merging || pair.scheduled || !pair.dirty) return;
        pair.scheduled = true;
        const run = () => {
          timers.delete(timer);
          pair.scheduled = false;
          const merge = mergeOne(pair);
          running.add(merge);
          void merge.finally(() => running.delete(merge));
        };
        const wait = completing ? 0 : pair.lastStartedAt + refreshMs - Date.now();
        const timer = wait > 0 ? setTimeout(run, wait) : setImmediate(run);
        timers.add(timer);
      };

      const mergeOne = async (pair: PairState) => {
        const board = boards(pair.board);
        if (!board) return;
        pair.dirty = false;
        pair.merging = true;
        pair.lastStartedAt = Date.now();
        const oldestArrival = pair.oldestArrival;
        pair.oldestArrival = Number.POSITIVE_INFINITY;
        try {
          const result = await refreshSnapshot(
            { redis, name, partitions },
            board,
            pair.window,
            pair.windowStart,
          );
          if (result.written) subscriber.next({ ...result.snapshot, oldestArrival });
          else if (!result.covered) pair.dirty = true; // crossed a merge of another process: again
        } catch (error) {
          // Retried while running; when the stage completes (the process stops) one failed last
          // attempt is enough: stopping must not wait for an unreachable Redis.
          if (!completing) {
            pair.dirty = true;
            pair.oldestArrival = Math.min(pair.oldestArrival, oldestArrival);
          }
          options.onError?.(error);
        } finally {
          pair.merging = false;
          schedule(pair);
        }
      };

      const mark = (batch: AppliedBatch) => {
        for (const changed of batch.changed) {
          const id = `${changed.board} ${changed.window}:${changed.windowStart}`;
          let pair = pairs.get(id);
          if (!pair) {
            pair = {
              ...changed,
              dirty: false,
              merging: false,
              scheduled: false,
              lastStartedAt: 0,
              oldestArrival: Number.POSITIVE_INFINITY,
            };
            pairs.set(id, pair);
          }
          pair.dirty = true;
          pair.oldestArrival = Math.min(pair.oldestArrival, batch.oldestArrival);
          schedule(pair);
        }
      };

      const forgetIdle = setInterval(() => {
        const before = Date.now() - IDLE_MS;
        for (const [id, pair] of pairs) {
          if (!pair.dirty && !pair.merging && !pair.scheduled && pair.lastStartedAt < before)
            pairs.delete(id);
        }
      }, IDLE_MS);
      forgetIdle.unref();

      const subscription = applied.subscribe({
        next: mark,
        error: (error) => subscriber.error(error),
        complete: async () => {
          // Merge what is still marked, at once, and wait for every merge to end.
          completing = true;
          clearTimers();
          for (const pair of pairs.values()) {
            pair.scheduled = false;
            schedule(pair);
          }
          while (running.size > 0 || timers.size > 0) {
            await Promise.all(running);
            await new Promise((resolve) => setImmediate(resolve));
          }
          subscriber.complete();
        },
      });
      return () => {
        clearInterval(forgetIdle);
        clearTimers();
        subscription.unsubscribe();
      };
    });
}

/** What {@link refreshSnapshot} did. */
export type RefreshResult =
  | { written: true; snapshot: Snapshot }
  /** `covered`: the stored snapshot saw everything this merge saw; otherwise merge again. */
  | { written: false; covered: boolean };

/**
 * Merges the global top-K of one (board, window instance) from its partitions' local tops (each
 * read with the partition's checkpoint) and writes it as the next version of its snapshot,
 * published on the snapshot channel, unless the stored snapshot was merged from reads at least
 * as new. The top-K stage calls it for marked tops; a replay calls it for the instances it
 * swapped in.
 *
 * @example
 * const result = await refreshSnapshot({ redis, name: 'lb', partitions: 16 }, board, 'all', 0);
 * if (result.written) console.log(result.snapshot.version);
 */
export async function refreshSnapshot(
  target: Pick<TopKOptions, 'redis' | 'name' | 'partitions'>,
  board: BoardConfig,
  window: WindowName,
  windowStart: number,
): Promise<RefreshResult> {
  const { redis, name, partitions } = target;
  defineOperatorScripts(redis);
  const key = windowKey(window, windowStart);
  const [generation, reads] = await Promise.all([
    redis.get(stateGenerationKey(name)),
    Promise.all(
      Array.from({ length: partitions }, (_, p) =>
        redis.localTop(
          scoresKey(name, p, board.id, key),
          partitionKeys(name, p).checkpoint,
          board.topK,
          board.order,
        ),
      ),
    ),
  ]);
  const candidates: { userId: string; score: number }[] = [];
  for (const [, flat] of reads) {
    for (let i = 0; i + 1 < flat.length; i += 2)
      candidates.push({ userId: flat[i]!, score: Number(flat[i + 1]) });
  }
  const entries = rank(candidates, board.order, board.topK);
  const seen = `${Number(generation ?? 0)}/${reads.map(([checkpoint]) => checkpoint).join(',')}`;
  const updatedAt = Date.now();
  const [written, outcome] = await redis.writeSnapshot(
    snapshotKey(name, board.id, key),
    snapshotChannel(name),
    board.id,
    key,
    JSON.stringify(entries),
    String(updatedAt),
    String(retentionExpiry(board, window, windowStart)),
    seen,
  );
  if (written === 0) return { written: false, covered: outcome === 'covered' };
  return {
    written: true,
    snapshot: {
      board: board.id,
      window,
      windowStart,
      version: Number(outcome),
      updatedAt,
      entries,
      oldestArrival: Number.POSITIVE_INFINITY,
    },
  };
}
