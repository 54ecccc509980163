/**
 * Keeps the global top-K of every (group, window instance) fresh: merges a top as soon as the
 * apply stage reports that a batch may have changed it, and stores each result as a versioned
 * snapshot announced on the group's channel.
 */
import type { Cluster, Redis } from 'ioredis';
import { Observable, type OperatorFunction } from 'rxjs';
import { expiryOf } from './internal/expiry.js';
import { mergeTop } from './internal/mergeTop.js';
import { defineOperatorScripts } from './internal/scripts.js';
import { snapshotChannel, snapshotKey } from './stateKeys.js';
import type { AppliedBatch, ChangedTop, GroupSpec, Snapshot, WindowInstance } from './types.js';

export interface TopKOptions {
  redis: Redis | Cluster;
  /** The stream family's name (key prefix). */
  name: string;
  partitions: number;
  /** The least time between the starts of two merges of one top, ms. Default 20. */
  refreshMs?: number;
  /** Called when a merge failed; the top stays marked and is merged again. */
  onError?: (error: unknown) => void;
  /** Told when the stage starts having merges to do (true) and when it has none left (false). */
  onBusy?: (busy: boolean) => void;
}

interface PairState extends ChangedTop {
  /** Marked since the last merge started. */
  dirty: boolean;
  merging: boolean;
  /** A merge waits for its turn (the next event-loop turn, or the refresh interval). */
  scheduled: boolean;
  lastStartedAt: number;
  oldestArrival: number;
  /** Merges of this top that failed in a row: each doubles the wait before the next, up to 2 s. */
  failures: number;
}

const MAX_RETRY_MS = 2000;

/** Pairs nobody changed for this long are forgotten (their next change merges at once). */
const IDLE_MS = 60_000;

/**
 * Turns applied batches into top-K snapshots.
 *
 * The apply script judges, from each partition's own state and atomically with the writes,
 * which tops a batch may have changed (see `topChanges.lua`); any other change (most of them, on
 * a big group) costs nothing here. A marked top is merged on the next turn of the event loop, or,
 * when its last merge started less than `refreshMs` ago, once that much time has passed; one
 * merge of a top runs at a time, and a top marked while its merge runs is merged again after it,
 * so the last merge always starts after the last change it must show. A snapshot stored by a
 * merge of another process is kept when it saw more (`writeSnapshot-1`).
 *
 * ## Example
 * ```ts
 * import { topK } from './topK.js';
 * applied$.pipe(topK({ redis, name: 'orders', partitions: 16 })).subscribe((snapshot) => {
 *   console.log(snapshot.group, snapshot.window.key, snapshot.version, snapshot.entries[0]);
 * });
 * ```
 *
 * @see applyState
 * @see refreshSnapshot
 * @param options Where the partitions' scores are, and how often a top may be merged.
 * @return A function that returns an Observable of the snapshots stored.
 */
export function topK(options: TopKOptions): OperatorFunction<AppliedBatch, Snapshot> {
  const { redis, name, partitions } = options;
  const refreshMs = options.refreshMs ?? 20;
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

      // Pairs scheduled or merging: the stage is busy while there are any.
      let active = 0;
      const setActive = (delta: number) => {
        const before = active;
        active += delta;
        if (before === 0 && active > 0) options.onBusy?.(true);
        else if (before > 0 && active === 0) options.onBusy?.(false);
      };
      const schedule = (pair: PairState) => {
        if (pair.merging || pair.scheduled || !pair.dirty) return;
        pair.scheduled = true;
        setActive(1);
        const run = () => {
          timers.delete(timer);
          pair.scheduled = false;
          pair.merging = true;
          const merge = mergeOne(pair);
          running.add(merge);
          void merge.finally(() => running.delete(merge));
        };
        // After failures (Redis unreachable), the retries back off instead of costing the process
        // one failed merge per top every refreshMs.
        const interval =
          pair.failures > 0 ? Math.min(MAX_RETRY_MS, refreshMs * 2 ** pair.failures) : refreshMs;
        const wait = completing ? 0 : pair.lastStartedAt + interval - Date.now();
        const timer = wait > 0 ? setTimeout(run, wait) : setImmediate(run);
        timers.add(timer);
      };

      const mergeOne = async (pair: PairState) => {
        pair.dirty = false;
        pair.lastStartedAt = Date.now();
        const oldestArrival = pair.oldestArrival;
        pair.oldestArrival = Number.POSITIVE_INFINITY;
        try {
          const result = await refreshSnapshot(
            { redis, name, partitions },
            pair.group,
            pair.window,
            pair.spec,
          );
          pair.failures = 0;
          if (result.written) subscriber.next({ ...result.snapshot, oldestArrival });
          else if (!result.covered) pair.dirty = true; // crossed a merge of another process: again
        } catch (error) {
          // Retried while running; when the stage completes (the process stops) one failed last
          // attempt is enough: stopping must not wait for an unreachable Redis.
          if (!completing) {
            pair.failures++;
            pair.dirty = true;
            pair.oldestArrival = Math.min(pair.oldestArrival, oldestArrival);
          }
          options.onError?.(error);
        } finally {
          pair.merging = false;
          schedule(pair);
          setActive(-1);
        }
      };

      const mark = (batch: AppliedBatch) => {
        for (const changed of batch.changed) {
          const id = `${changed.group}\u0000${changed.window.key}`;
          let pair = pairs.get(id);
          if (!pair) {
            pair = {
              ...changed,
              dirty: false,
              merging: false,
              scheduled: false,
              lastStartedAt: 0,
              oldestArrival: Number.POSITIVE_INFINITY,
              failures: 0,
            };
            pairs.set(id, pair);
          }
          pair.spec = changed.spec; // the group's settings may have changed (e.g. its K)
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
            if (pair.scheduled) {
              pair.scheduled = false;
              setActive(-1);
            }
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
 * Merges the global top-K of one (group, window instance) from its partitions' local tops (each
 * read with the partition's state revision, in one round) and stores it as the next version of
 * its snapshot, announced on the group's channel, unless the stored snapshot was merged from reads
 * at least as new. The top-K stage calls it for marked tops; a replay for the instances it swapped
 * in. This is one level of the design's tree reduction: partitions are the leaves, this process
 * the root.
 *
 * @example
 * const result = await refreshSnapshot({ redis, name: 'lb', partitions: 16 }, 'global', instance, spec);
 * if (result.written) console.log(result.snapshot.version);
 */
export async function refreshSnapshot(
  target: Pick<TopKOptions, 'redis' | 'name' | 'partitions'>,
  group: string,
  window: WindowInstance,
  spec: GroupSpec,
): Promise<RefreshResult> {
  const { redis, name } = target;
  defineOperatorScripts(redis);
  const { entries, seen } = await mergeTop(target, group, window.key, spec);
  const updatedAt = Date.now();
  const [written, outcome] = await redis.writeSnapshot(
    snapshotKey(name, group, window.key),
    snapshotChannel(name, group),
    window.key,
    JSON.stringify(entries),
    String(updatedAt),
    String(expiryOf(window, spec)),
    seen,
  );
  if (written === 0) return { written: false, covered: outcome === 'covered' };
  return {
    written: true,
    snapshot: {
      group,
      window,
      version: Number(outcome),
      updatedAt,
      entries,
      oldestArrival: Number.POSITIVE_INFINITY,
    },
  };
}
