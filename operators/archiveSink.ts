import { concatMap, defer, map, type OperatorFunction, retry, throwError, timer } from 'rxjs';
import { archiveWindow, type ClosedWindow } from './store/archivedWindows.js';
import type { Database } from './store/database.js';
import { StoreInputError } from './store/storeInputError.js';

export interface ArchiveSinkOptions {
  /** Delay before the first retry of a failed write; it doubles with each further attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** The longest delay between two attempts. Default 30 s. */
  maxDelayMs?: number;
  /**
   * Whether a failed write is worth retrying. Default: every error but {@link StoreInputError},
   * which no retry can fix.
   */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each retry, e.g. to log or count it. */
  onRetry?: (error: unknown, attempt: number, closed: ClosedWindow) => void;
}

/** A closed window as the archive sink emits it once it is in the archive. */
export interface ArchivedWindow extends ClosedWindow {
  /** True when an earlier write (a replay, or a retry whose first commit went through) archived it. */
  alreadyArchived: boolean;
}

/**
 * Writes the final top-K of each closed window to the relational archive, one window at a time,
 * and emits each once it is stored.
 *
 * <span class="informal">A sink that never drops a closed window: a failed write is retried with
 * exponential backoff until the database takes it.</span>
 *
 * Windows are written in arrival order: the next write starts only when the previous one is
 * stored, so a database outage holds the notices back (in order) instead of losing them, and the
 * archive sees one write at a time. Archiving is idempotent, so a notice that comes again (after
 * a replay, or a retry of a write whose commit did go through) changes nothing and comes out with
 * `alreadyArchived: true`.
 *
 * An invalid notice (a {@link StoreInputError}) is not retried, since it would fail forever, nor
 * skipped, since that would lose a window's result silently: the output errors with it.
 *
 * ## Example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { archiveSink } from './operators/archiveSink.js';
 * import type { ClosedWindow } from './operators/store/archivedWindows.js';
 * import { openDatabase } from './operators/store/database.js';
 *
 * const db = await openDatabase({ url: process.env.DATABASE_URL });
 * const closed$ = new Subject<ClosedWindow>();
 * closed$
 *   .pipe(archiveSink(db, { onRetry: (error, attempt) => console.warn(`archive retry ${attempt}`, error) }))
 *   .subscribe((w) => console.log(`archived ${w.board}/${w.window}@${w.windowStart}`));
 *
 * closed$.next({
 *   board: 'global', window: 'day', windowStart: Date.UTC(2026, 2, 10), windowEnd: Date.UTC(2026, 2, 11),
 *   entries: [{ rank: 1, userId: 'ada', score: 42 }],
 * });
 * ```
 *
 * @see {@link archiveWindow}
 * @see {@link concatMap}
 * @see {@link retry}
 * @param db The relational store.
 * @param options Backoff and retry policy; see {@link ArchiveSinkOptions}.
 * @return A function that returns an Observable of the closed windows once archived, in the order
 * they came.
 */
export function archiveSink(
  db: Database,
  options: ArchiveSinkOptions = {},
): OperatorFunction<ClosedWindow, ArchivedWindow> {
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const isRetryable = options.isRetryable ?? ((error: unknown) => !(error instanceof StoreInputError));
  if (!(initialDelayMs >= 0 && maxDelayMs >= initialDelayMs)) {
    throw new RangeError(
      `archiveSink: need 0 <= initialDelayMs <= maxDelayMs, got ${initialDelayMs} and ${maxDelayMs}`,
    );
  }

  return concatMap((closed) =>
    defer(() => archiveWindow(db, closed)).pipe(
      retry({
        delay: (error: unknown, attempt) => {
          if (!isRetryable(error)) return throwError(() => error);
          options.onRetry?.(error, attempt, closed);
          return timer(Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs));
        },
      }),
      map((fresh) => ({ ...closed, alreadyArchived: !fresh })),
    ),
  );
}
