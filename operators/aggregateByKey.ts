import { map, type OperatorFunction } from 'rxjs';
import { combinedValue } from './internal/policies.js';
import type {
  AggregatedPayload,
  BoardConfig,
  Envelope,
  IdentifiedEvent,
  ScoreEvent,
  ScoreUpdate,
  WindowedPayload,
} from './types.js';

/**
 * Pre-aggregates a batch to one update per (board, window instance, user), by the board's policy.
 *
 * So the apply script touches each sorted-set member once per batch, however many events it got:
 * `sum` adds the deltas, `max` and `min` keep the extreme, `last` keeps the value with the greatest
 * event time (of equal times, the later in the batch). An update's `ts` is the latest event time
 * folded into it. Updates come out in the order of their key's first event, so a batch always
 * yields the same script arguments.
 *
 * Events that carry an `eventId` are not folded: each becomes one {@link IdentifiedEvent} with all
 * its windows, because only the apply script can tell atomically whether it was already applied.
 * Updates and identified events carry the position in the batch of the event that set their
 * value (`pos`), so that the apply stage can apply them in stream order: under `last`, of equal
 * event times the later entry wins, also when one of them carries an `eventId`.
 * `late`, `unknownBoard` and `streamTime` pass through; an event whose board disappeared since
 * windows were assigned joins `unknownBoard`.
 *
 * ## Example
 * ```ts
 * import { aggregateByKey } from './operators/aggregateByKey.js';
 * import { assignWindows } from './operators/assignWindows.js';
 *
 * const lookup = (id: string) => boards.get(id);
 * const aggregated$ = parsed$.pipe(assignWindows(lookup), aggregateByKey(lookup));
 * ```
 *
 * @see {@link assignWindows}
 * @see {@link combinedValue}
 * @param boards Looks up a board's config by id.
 * @return A function that returns an Observable of the batches with their aggregated updates.
 */
export function aggregateByKey(
  boards: (id: string) => BoardConfig | undefined,
): OperatorFunction<Envelope<WindowedPayload>, Envelope<AggregatedPayload>> {
  return map((envelope) => {
    const { events, late, streamTime } = envelope.payload;
    const updates = new Map<string, ScoreUpdate>();
    const identified: IdentifiedEvent[] = [];
    const unknownBoard: ScoreEvent[] = envelope.payload.unknownBoard.slice();

    for (let pos = 0; pos < events.length; pos++) {
      const { event, windows } = events[pos]!;
      const board = boards(event.board);
      if (board === undefined) {
        unknownBoard.push(event);
        continue;
      }
      const { policy } = board;

      if (event.eventId !== undefined) {
        identified.push({
          board: event.board,
          eventId: event.eventId,
          userId: event.userId,
          policy,
          value: event.value,
          ts: event.ts,
          entryId: event.entryId,
          pos,
          windows: windows.map((w) => ({ window: w.window, windowStart: w.start })),
        });
        continue;
      }

      for (const { window, start } of windows) {
        // Board ids come from config and hold no NUL, window names and starts never do, and the
        // user id comes last: two different keys cannot produce the same string.
        const key = event.board + '\u0000' + window + '\u0000' + start + '\u0000' + event.userId;
        const update = updates.get(key);
        if (update === undefined) {
          updates.set(key, {
            board: event.board,
            window,
            windowStart: start,
            userId: event.userId,
            policy,
            value: event.value,
            ts: event.ts,
            pos,
          });
        } else {
          const value = combinedValue(policy, update, event);
          // Under `last` the event sets the value when it wins (equal times: the later entry).
          if (policy !== 'last' || event.ts >= update.ts) update.pos = pos;
          update.value = value;
          if (event.ts > update.ts) update.ts = event.ts;
        }
      }
    }

    return {
      ...envelope,
      payload: { updates: Array.from(updates.values()), identified, late, unknownBoard, streamTime },
    };
  });
}

/**
 * The batch's updates and identified events in the order of the events that set them, the
 * stream's: the order the apply scripts apply them in. Without identified events the order of
 * the updates does not matter (each touches its own member), so they are taken as they are.
 *
 * @example
 * for (const op of inStreamOrder(envelope.payload)) args.push('eventId' in op ? 'e' : 'u');
 */
export function inStreamOrder(payload: AggregatedPayload): (ScoreUpdate | IdentifiedEvent)[] {
  const { updates, identified } = payload;
  if (identified.length === 0) return updates;
  const sorted = updates.slice().sort((a, b) => a.pos - b.pos);
  const ops: (ScoreUpdate | IdentifiedEvent)[] = [];
  let i = 0;
  for (const e of identified) {
    while (i < sorted.length && sorted[i]!.pos < e.pos) ops.push(sorted[i++]!);
    ops.push(e);
  }
  while (i < sorted.length) ops.push(sorted[i++]!);
  return ops;
}
