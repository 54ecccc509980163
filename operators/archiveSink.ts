/**
 * Archives the final top-K of window instances once they close, to a store that keeps them after
 * Redis' retention has let their state go. Its work follows what closed, not how many groups or
 * windows there are: the apply script records each instance with state in its partition's
 * closing set (by close time), and the archive takes what is due from there.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { Observable } from 'rxjs';
import { expiryOf } from './internal/expiry.js';
import { mergeTop } from './internal/mergeTop.js';
import { parseClosingMember, parseWindowKey, stateKeys } from './stateKeys.js';
import type { GroupLookup, RankedEntry } from './types.js';

/** A window instance that has closed (its end plus grace has passed), with its final top-K. */
export interface ClosedTop {
  group: string;
  window: string;
  /** Epoch ms, inclusive. */
  windowStart: number;
  /** Epoch ms, exclusive. */
  windowEnd: number;
  entries: readonly RankedEntry[];
}

/** Where closed tops are kept. */
export interface ArchiveStore {
  /**
   * Keeps a closed top, once: archiving it again changes nothing. Resolves true when this call
   * archived it. Rejects on failure; the sink retries.
   */
  archive(closed: ClosedTop): Promise<boolean>;
  /** Whether a failure is worth retrying (default: every one). */
  isRetryable?(error: unknown): boolean;
}

export interface ArchiveSinkOptions {
  redis: Redis | Cluster;
  name: string;
  partitions: number;
  groups: GroupLookup;
  store: ArchiveStore;
  /** Which partitions' closing sets to work through (default: all); e.g. the ones a worker owns. */
  partitionsToWatch?: () => Iterable<number>;
  /** How often the closing sets are looked at, ms. Default 10 s. */
  intervalMs?: number;
  /** Wall clock (tests). */
  now?: () => number;
  /** Called with a failure that will be retried. */
  onRetry?: (error: unknown, closed: ClosedTop | undefined) => void;
  /** Delay before a retry; doubles up to maxDelayMs. Default 100 ms / 30 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** A closed top, as the sink emits it once it is in the archive. */
export interface ArchivedTop extends ClosedTop {
  /** True when an earlier write (another process, or a retry whose first commit went through) archived it. */
  alreadyArchived: boolean;
}

/**
 * While subscribed, archives every window instance whose close time has passed: merges its final
 * top-K from the partitions, hands it to the store (retried with exponential backoff until the
 * store takes it, or fails for good with an error the store says is not retryable), and only then
 * removes it from the closing sets (it is listed as archived until its state expires). Archiving is idempotent, so processes that watch overlapping
 * partitions, or a restart in the middle, archive nothing twice.
 *
 * ## Example
 * ```ts
 * import { archiveSink } from './archiveSink.js';
 * archiveSink({ redis, name: 'lb', partitions: 16, groups, store }).subscribe((top) =>
 *   console.log(`archived ${top.group} ${top.window}@${top.windowStart}`),
 * );
 * ```
 *
 * @see topK
 * @param options Where the state is, which groups exist, and the store.
 * @return An Observable of the tops archived, that works while subscribed.
 */
export function archiveSink(options: ArchiveSinkOptions): Observable<ArchivedTop> {
  const intervalMs = options.intervalMs ?? 10_000;
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  if (!(initialDelayMs >= 0 && maxDelayMs >= initialDelayMs)) {
    throw new RangeError(
      `archiveSink: need 0 <= initialDelayMs <= maxDelayMs, got ${initialDelayMs} and ${maxDelayMs}`,
    );
  }
  const retryable = (error: unknown) => options.store.isRetryable?.(error) ?? true;
  return new Observable<ArchivedTop>((subscriber) => {
    const abort = new AbortController();
    void (async () => {
      while (!abort.signal.aborted) {
        try {
          await archiveDue(options, (top) => subscriber.next(top), abort.signal);
        } catch (error) {
          if (!retryable(error)) {
            subscriber.error(error);
            return;
          }
          options.onRetry?.(error, undefined);
        }
        await pause(intervalMs, abort.signal);
      }
    })();
    return () => abort.abort();
  });
}

/**
 * One pass of {@link archiveSink}: archives every instance that is due now, then resolves.
 *
 * @example
 * await archiveDue({ redis, name: 'lb', partitions: 16, groups, store, now: () => Date.UTC(2026, 0, 2) });
 */
export async function archiveDue(
  options: ArchiveSinkOptions,
  onArchived: (top: ArchivedTop) => void = () => {},
  signal?: AbortSignal,
): Promise<void> {
  const { redis, name, partitions, store } = options;
  const now = options.now ?? Date.now;
  const watched = options.partitionsToWatch ?? (() => Array.from({ length: partitions }, (_, p) => p));
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const retryable = (error: unknown) => store.isRetryable?.(error) ?? true;
  // Every due instance once, though several partitions list it.
  const due = new Map<string, number[]>();
  for (const p of watched()) {
    const members = await redis.zrangebyscore(stateKeys(name, p).closing, '-inf', now(), 'LIMIT', 0, 1000);
    for (const member of members) {
      const list = due.get(member);
      if (list) list.push(p);
      else due.set(member, [p]);
    }
  }
  for (const [member, holders] of due) {
    if (signal?.aborted) return;
    const { closed, keptUntil } = (await finalTop(options, member)) ?? { keptUntil: 0 };
    if (closed) {
      for (let attempt = 0; ; attempt++) {
        try {
          const fresh = await store.archive(closed);
          onArchived({ ...closed, alreadyArchived: !fresh });
          break;
        } catch (error) {
          if (!retryable(error) || signal?.aborted) throw error;
          options.onRetry?.(error, closed);
          await pause(Math.min(initialDelayMs * 2 ** attempt, maxDelayMs), signal);
        }
      }
    }
    // Its state stays until it expires: hiding a member must still find it (topology/members.ts).
    const at = now();
    await Promise.all(
      holders.map((p) => {
        const keys = stateKeys(name, p);
        const moves = redis.multi();
        if (keptUntil > at) moves.zadd(keys.archived, keptUntil, member);
        return moves.zrem(keys.closing, member).zremrangebyscore(keys.archived, '-inf', at).exec();
      }),
    );
  }
}

/** An instance's final top, and until when its state is kept (its keys' expiry). */
async function finalTop(
  options: ArchiveSinkOptions,
  member: string,
): Promise<{ closed: ClosedTop; keptUntil: number } | undefined> {
  const { redis, name, partitions, groups } = options;
  const { group, window: key } = parseClosingMember(member);
  const spec = groups(group);
  const { window, start } = parseWindowKey(key);
  const definition = spec?.windows.find((w) => w.name === window);
  const instance = definition?.windowStartingAt(start);
  if (!spec || !definition || !instance) return undefined; // the group or its window is gone: nothing to keep
  const { entries } = await mergeTop({ redis, name, partitions }, group, key, spec);
  return {
    closed: { group, window, windowStart: instance.start, windowEnd: instance.end, entries },
    keptUntil: expiryOf({ definition, start: instance.start, end: instance.end, key }, spec),
  };
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => {});
}
