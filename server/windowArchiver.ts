/**
 * Archives the final top-K of closed windows to the relational store: every minute (and at
 * start) it looks at the window instances of every board that closed (end + grace passed) within
 * their retention, and sends those not archived yet through the archive sink. Idempotent, so any
 * number of server processes may run it.
 */
import { Subject, type Subscription } from 'rxjs';
import { archiveSink } from '../operators/archiveSink.js';
import { mergeTop } from '../operators/mergeTop.js';
import { windowKey } from '../operators/stateKeys.js';
import { type ClosedWindow, isArchived } from '../operators/store/archivedWindows.js';
import { windowFor } from '../operators/timeWindows.js';
import type { WindowName } from '../operators/types.js';
import type { Services } from './services.js';

const DAY_MS = 86_400_000;

export class WindowArchiver {
  private readonly notices = new Subject<ClosedWindow>();
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  /** The scan in progress; a tick while one runs does nothing. */
  private scanning = false;
  private readonly queued = new Set<string>();

  constructor(
    private readonly services: Services,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 60_000,
  ) {}

  start(): void {
    this.subscription = this.notices
      .pipe(archiveSink(this.services.db, { onRetry: (error) => this.onError(error) }))
      .subscribe({
        error: (error) => this.onError(error),
      });
    const tick = () => {
      if (this.scanning) return;
      this.scanning = true;
      this.scan()
        .catch((error) => this.onError(error))
        .finally(() => {
          this.scanning = false;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.notices.complete();
    this.subscription?.unsubscribe();
  }

  /** Finds closed, unarchived window instances and queues their final top-K. */
  async scan(now = Date.now()): Promise<void> {
    const { services } = this;
    for (const board of services.boards.list()) {
      for (const window of board.windows.filter((w): w is Exclude<WindowName, 'all'> => w !== 'all')) {
        let ref = windowFor(window, windowFor(window, now).start - 1);
        while (ref.end + board.graceSeconds * 1000 <= now && ref.end > now - board.retentionDays * DAY_MS) {
          const id = `${board.id} ${window} ${ref.start}`;
          if (!this.queued.has(id) && !(await isArchived(services.db, board.id, window, ref.start))) {
            const entries = await mergeTop({
              redis: services.redis,
              name: services.config.KEY_PREFIX,
              partitions: services.config.PARTITIONS,
              board: board.id,
              window: windowKey(window, ref.start),
              k: board.topK,
              order: board.order,
            });
            if (entries.length > 0) {
              this.queued.add(id);
              this.notices.next({
                board: board.id,
                window,
                windowStart: ref.start,
                windowEnd: ref.end,
                entries,
              });
            }
          }
          ref = windowFor(window, ref.start - 1);
        }
      }
    }
  }
}
