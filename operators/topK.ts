/**
 * Keeps the global top-K of every (board, window instance) fresh: marks pairs dirty from what the
 * apply stage changed, merges the dirty ones every `refreshMs`, and writes each result as a
 * versioned snapshot that is published on a channel.
 */
import type { Cluster, Redis } from 'ioredis';
import { Observable, type OperatorFunction } from 'rxjs';
import { mergeTop } from './mergeTop.js';
import { type RankedEntry, reaches } from './ranking.js';
import { retentionExpiry } from './retention.js';
import { defineOperatorScripts } from './scripts.js';
import { snapshotChannel, snapshotKey, stateGenerationKey, windowKey } from './stateKeys.js';
import type { AppliedBatch, BoardConfig, WindowName } from './types.js';

export interface TopKOptions {
  redis: Redis | Cluster;
  name: string;
  partitions: number;
  boards: (id: string) => BoardConfig | undefined;
  /** How often dirty pairs are merged, ms. Default 50. */
  refreshMs?: number;
  /** Called when a merge failed; the pair stays dirty and is merged again next time. */
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
  key: string;
  members: Set<string>;
  /** The K-th score when the top is full; undefined while it has fewer than K entries. */
  threshold: number | undefined;
  dirty: boolean;
  oldestArrival: number;
}

/**
 * Turns applied batches into top-K snapshots.
 *
 * A change can only alter a top when its user is in it, when the top is not full yet, or when the
 * new score reaches the K-th score: any other change (most of them, on a big board) costs nothing
 * here. Merges never overlap; a pair changed during a merge is merged again on the next tick.
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
 * @see mergeTop
 * @param options Where the partitions' scores are, and how often to merge.
 * @return A function that returns an Observable of the snapshots written.
 */
export function topK(options: TopKOptions): OperatorFunction<AppliedBatch, Snapshot> {
  const { redis, name, partitions, boards } = options;
  const refreshMs = options.refreshMs ?? 50;
  defineOperatorScripts(redis);

  return (applied) =>
    new Observable<Snapshot>((subscriber) => {
      const pairs = new Map<string, PairState>();
      let flushing: Promise<void> | undefined;

      const mark = (batch: AppliedBatch) => {
        for (const change of batch.changes) {
          const board = boards(change.board);
          if (!board) continue;
          const key = windowKey(change.window, change.windowStart);
          const id = `${change.board} ${key}`;
          let pair = pairs.get(id);
          if (!pair) {
            pair = {
              board: change.board,
              window: change.window,
              windowStart: change.windowStart,
              key,
              members: new Set(),
              threshold: undefined,
              dirty: false,
              oldestArrival: Number.POSITIVE_INFINITY,
            };
            pairs.set(id, pair);
          }
          if (
            pair.dirty ||
            pair.threshold === undefined ||
            pair.members.has(change.userId) ||
            reaches(change.score, pair.threshold, board.order)
          ) {
            pair.dirty = true;
            pair.oldestArrival = Math.min(pair.oldestArrival, batch.oldestArrival);
          }
        }
      };

      const mergeOne = async (pair: PairState) => {
        const board = boards(pair.board);
        if (!board) return;
        pair.dirty = false;
        const oldestArrival = pair.oldestArrival;
        pair.oldestArrival = Number.POSITIVE_INFINITY;
        try {
          const snapshot = await refreshSnapshot(
            { redis, name, partitions },
            board,
            pair.window,
            pair.windowStart,
          );
          const { entries } = snapshot;
          pair.members = new Set(entries.map((e) => e.userId));
          pair.threshold = entries.length >= board.topK ? entries[entries.length - 1]!.score : undefined;
          subscriber.next({ ...snapshot, oldestArrival });
        } catch (error) {
          pair.dirty = true;
          pair.oldestArrival = Math.min(pair.oldestArrival, oldestArrival);
          options.onError?.(error);
        }
      };

      // State replaced wholesale (a replay swapped in) invalidates what the pairs know of their
      // tops: merge every known pair again.
      let generation: string | null | undefined;
      const checkGeneration = async () => {
        const current = await redis.get(stateGenerationKey(name));
        if (generation !== undefined && current !== generation) {
          for (const pair of pairs.values()) {
            pair.threshold = undefined;
            pair.members.clear();
            pair.dirty = true;
          }
        }
        generation = current;
      };

      const flush = async () => {
        await checkGeneration().catch((error: unknown) => options.onError?.(error));
        const dirty = [...pairs.values()].filter((p) => p.dirty);
        await Promise.all(dirty.map(mergeOne));
      };
      const tick = () => {
        flushing ??= flush().finally(() => {
          flushing = undefined;
        });
        return flushing;
      };

      const timer = setInterval(tick, refreshMs);
      const subscription = applied.subscribe({
        next: mark,
        error: (error) => subscriber.error(error),
        complete: async () => {
          clearInterval(timer);
          await flushing;
          await flush();
          subscriber.complete();
        },
      });
      return () => {
        clearInterval(timer);
        subscription.unsubscribe();
      };
    });
}

/**
 * Merges the global top-K of one (board, window instance) from its partitions and writes it as the
 * next version of its snapshot (published on the snapshot channel). The top-K stage calls it for
 * dirty pairs; a replay calls it for the instances it swapped in.
 *
 * @return The snapshot written; `oldestArrival` is left to the caller (here `+Infinity`).
 */
export async function refreshSnapshot(
  target: Pick<TopKOptions, 'redis' | 'name' | 'partitions'>,
  board: BoardConfig,
  window: WindowName,
  windowStart: number,
): Promise<Snapshot> {
  const { redis, name, partitions } = target;
  defineOperatorScripts(redis);
  const key = windowKey(window, windowStart);
  const entries = await mergeTop({
    redis,
    name,
    partitions,
    board: board.id,
    window: key,
    k: board.topK,
    order: board.order,
  });
  const updatedAt = Date.now();
  const version = await redis.writeSnapshot(
    snapshotKey(name, board.id, key),
    snapshotChannel(name),
    board.id,
    key,
    JSON.stringify(entries),
    String(updatedAt),
    String(retentionExpiry(board, window, windowStart)),
  );
  return {
    board: board.id,
    window,
    windowStart,
    version,
    updatedAt,
    entries,
    oldestArrival: Number.POSITIVE_INFINITY,
  };
}
