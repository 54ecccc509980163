/**
 * Pre-aggregates a partition batch to one update per (group, window instance, member), by the
 * group's reducer, so the apply script touches each sorted-set member once per batch however many
 * records it got.
 */
import { map, type OperatorFunction } from 'rxjs';
import { foldValue, setsValue } from './internal/reducers.js';
import type { AggregatedPayload, Envelope, IdentifiedRecord, Update, WindowedPayload } from './types.js';

/**
 * Folds a batch's records per (group, window instance, member).
 *
 * `sum` adds the values, `count` counts the records, `max` and `min` keep the extreme, `last`
 * keeps the value with the greatest event time (of equal times, the later in the batch). An
 * update's `ts` is the event time of the record that set its value, and `sets` says whether one
 * did (a `sum` of zeros did not; one that adds up to zero did). Updates come out in the
 * order of their key's first record, so a batch always yields the same script arguments.
 *
 * Records that carry a de-duplication id are not folded: each becomes one
 * {@link IdentifiedRecord} with all its windows, because only the apply script can tell
 * atomically whether it was already applied. Updates and identified records carry the position in
 * the batch of the record that set their value (`pos`), so the apply stage can apply them in
 * stream order (see {@link inStreamOrder}): under `last`, of equal event times the later entry
 * wins, also when one of them carries an id.
 *
 * ## Example
 * ```ts
 * import { aggregate } from './aggregate.js';
 * import { assignWindows } from './assignWindows.js';
 * const aggregated$ = keyed$.pipe(assignWindows(), aggregate());
 * ```
 *
 * @see assignWindows
 * @see applyState
 * @return A function that returns an Observable of the batches with their aggregated updates.
 */
export function aggregate(): OperatorFunction<Envelope<WindowedPayload>, Envelope<AggregatedPayload>> {
  return map((envelope) => {
    const { records, late, streamTime } = envelope.payload;
    const updates = new Map<string, Update>();
    const identified: IdentifiedRecord[] = [];

    for (let pos = 0; pos < records.length; pos++) {
      const { record, windows } = records[pos]!;
      if (record.id !== undefined) {
        identified.push({ record, windows, pos });
        continue;
      }
      const { reduce } = record.spec;
      for (const window of windows) {
        // Group ids and window keys hold no NUL, and the member comes last: two different keys
        // cannot produce the same string.
        const key = `${record.group}\u0000${window.key}\u0000${record.member}`;
        const update = updates.get(key);
        if (update === undefined) {
          const created: Update = {
            group: record.group,
            window,
            member: record.member,
            spec: record.spec,
            value: record.value,
            ts: record.ts,
            pos,
          };
          // A sum of zeros sets no score (see Update.sets).
          if (reduce === 'sum' && record.value === 0) created.sets = false;
          updates.set(key, created);
        } else {
          const sets = setsValue(reduce, update, record);
          update.value = foldValue(reduce, update, record);
          if (sets) {
            update.pos = pos;
            update.ts = record.ts;
            if (update.sets === false) update.sets = undefined;
          }
        }
      }
    }
    return { ...envelope, payload: { updates: Array.from(updates.values()), identified, late, streamTime } };
  });
}

/**
 * The batch's updates and identified records in the order of the records that set them, the
 * stream's: the order the apply script applies them in. Without identified records the order of
 * the updates does not matter (each touches its own member), so they are taken as they are.
 *
 * @example
 * for (const op of inStreamOrder(envelope.payload)) args.push('record' in op ? 'e' : 'u');
 */
export function inStreamOrder(payload: AggregatedPayload): (Update | IdentifiedRecord)[] {
  const { updates, identified } = payload;
  if (identified.length === 0) return updates;
  const sorted = updates.slice().sort((a, b) => a.pos - b.pos);
  const ops: (Update | IdentifiedRecord)[] = [];
  let i = 0;
  for (const e of identified) {
    while (i < sorted.length && sorted[i]!.pos < e.pos) ops.push(sorted[i++]!);
    ops.push(e);
  }
  while (i < sorted.length) ops.push(sorted[i++]!);
  return ops;
}
