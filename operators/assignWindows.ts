import { defer, map, type OperatorFunction } from 'rxjs';
import { isLate, windowFor } from './timeWindows.js';
import type {
  BoardConfig,
  Envelope,
  LateEvent,
  ParsedPayload,
  ScoreEvent,
  WindowedEvent,
  WindowedPayload,
  WindowName,
  WindowRef,
} from './types.js';

export interface AssignWindowsOptions {
  /**
   * Stream time a partition starts from, e.g. the one stored with its checkpoint, so that a
   * restarted worker judges lateness as the one before it did. Asked again whenever a batch of the
   * partition comes under another lease epoch than the one before. Default: 0 (nothing seen yet).
   */
  initialStreamTime?: (partition: number) => number;
}

/**
 * Gives every event the windows of its board that it still counts in, and sets aside the late ones.
 *
 * Each partition keeps a *stream time*: the greatest event time seen so far in it (as in Kafka
 * Streams). Lateness is judged against stream time rather than the wall clock, so a replay of old
 * data is not all late, and one partition's backlog does not close windows for another. For each
 * event, in order, stream time first advances to the event's time; then each window of the board
 * that is closed for good (stream time >= end + grace) yields a {@link LateEvent}, the others are
 * kept on the event. An event whose windows are all late appears only in `late`: nothing is
 * dropped silently.
 *
 * Events of a board no config knows go to `unknownBoard`, without moving stream time, so a later
 * stage can dead-letter them while the stream goes on.
 *
 * State is per subscription. Events of one window share one {@link WindowRef} object: treat refs
 * as read-only.
 *
 * ## Example
 * ```ts
 * import { assignWindows } from './operators/assignWindows.js';
 * import { aggregateByKey } from './operators/aggregateByKey.js';
 *
 * const boards = new Map([['chess', chessBoard]]);
 * const aggregated$ = parsed$.pipe(
 *   assignWindows((id) => boards.get(id), { initialStreamTime: (p) => checkpoints[p].streamTime }),
 *   aggregateByKey((id) => boards.get(id)),
 * );
 * ```
 *
 * @see {@link aggregateByKey}
 * @see {@link windowFor}
 * @see {@link isLate}
 * @param boards Looks up a board's config by id.
 * @param options See {@link AssignWindowsOptions}.
 * @return A function that returns an Observable of the batches with windowed events.
 */
export function assignWindows(
  boards: (id: string) => BoardConfig | undefined,
  options: AssignWindowsOptions = {},
): OperatorFunction<Envelope<ParsedPayload>, Envelope<WindowedPayload>> {
  const initialStreamTime = options.initialStreamTime ?? (() => 0);
  return (source) =>
    defer(() => {
      // Per partition, the lease epoch its stream time was built under: a batch of another epoch
      // (the partition was lost and taken again, maybe after another owner advanced it, or after
      // batches of the old epoch that were never applied) starts again from initialStreamTime.
      const streamTimes = new Map<number, { epoch: number; streamTime: number }>();
      // Consecutive events almost always share their windows: reuse the last ref of each kind
      // instead of recomputing (a Date per event for months) and allocating a new one.
      const lastRefs = new Map<WindowName, WindowRef>();
      const refFor = (name: WindowName, ts: number): WindowRef => {
        const last = lastRefs.get(name);
        if (last !== undefined && ts >= last.start && ts < last.end) return last;
        const ref = windowFor(name, ts);
        lastRefs.set(name, ref);
        return ref;
      };

      return source.pipe(
        map((envelope): Envelope<WindowedPayload> => {
          const known = streamTimes.get(envelope.partition);
          let streamTime =
            known && known.epoch === envelope.epoch
              ? known.streamTime
              : initialStreamTime(envelope.partition);
          const events: WindowedEvent[] = [];
          const late: LateEvent[] = [];
          const unknownBoard: ScoreEvent[] = [];

          for (const event of envelope.payload.events) {
            const board = boards(event.board);
            if (board === undefined) {
              unknownBoard.push(event);
              continue;
            }
            if (event.ts > streamTime) streamTime = event.ts;
            const graceMs = board.graceSeconds * 1000;
            const windows: WindowRef[] = [];
            for (const name of board.windows) {
              const ref = refFor(name, event.ts);
              if (isLate(ref, streamTime, graceMs)) {
                late.push({ event, window: name, windowStart: ref.start, streamTime });
              } else {
                windows.push(ref);
              }
            }
            if (windows.length > 0) events.push({ event, windows });
          }

          streamTimes.set(envelope.partition, { epoch: envelope.epoch, streamTime });
          return { ...envelope, payload: { events, late, unknownBoard, streamTime } };
        }),
      );
    });
}
