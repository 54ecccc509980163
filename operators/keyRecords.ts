/**
 * Keys decoded records for aggregation: the group, member, value, event time and optional
 * de-duplication id of each, with the group's spec; records of a group the pipeline does not know,
 * or whose value or time is not a number, are set aside as rejected.
 */
import { map, type OperatorFunction } from 'rxjs';
import type {
  DecodedPayload,
  Envelope,
  GroupLookup,
  KeyedPayload,
  KeyedRecord,
  RejectedEntry,
} from './types.js';

export interface KeyRecordsOptions<T> {
  group: (value: T) => string;
  member: (value: T) => string;
  value: (value: T) => number;
  /** Event time, epoch ms (`entryId`: the record's stream entry, whose milliseconds are its arrival). */
  time: (value: T, entryId: string) => number;
  /** A de-duplication id: a repeat from the same member of the same group counts once (24 h). */
  id?: (value: T) => string | undefined;
  groups: GroupLookup;
  /** What a group is called where an unknown one is dead-lettered, e.g. `board`. Default `group`. */
  groupNoun?: string;
}

/**
 * Turns decoded records into keyed ones.
 *
 * ## Example
 * ```ts
 * import { keyRecords } from './keyRecords.js';
 * decoded$.pipe(
 *   keyRecords({
 *     group: (o) => o.category, member: (o) => o.productId, value: (o) => o.price * o.qty,
 *     time: (o) => o.at, groups: () => spec,
 *   }),
 * );
 * ```
 *
 * @see decodeEntries
 * @see assignWindows
 * @param options The extractors and the groups' specs.
 * @return A function that returns an Observable of envelopes with keyed records.
 */
export function keyRecords<T>(
  options: KeyRecordsOptions<T>,
): OperatorFunction<Envelope<DecodedPayload<T>>, Envelope<KeyedPayload>> {
  const { groups, id } = options;
  const noun = options.groupNoun ?? 'group';
  return map((envelope) => {
    const records: KeyedRecord[] = [];
    let rejected: RejectedEntry[] | undefined;
    const reject = (entryId: string, reason: string) => {
      rejected ??= envelope.rejected.slice();
      rejected.push({ id: entryId, reason });
    };
    for (const { value, entryId } of envelope.payload.values) {
      const group = options.group(value);
      const spec = groups(group);
      if (spec === undefined) {
        reject(entryId, `unknown ${noun} '${group}'`);
        continue;
      }
      const amount = spec.reduce === 'count' ? 1 : options.value(value);
      const ts = options.time(value, entryId);
      if (!Number.isFinite(amount)) {
        reject(entryId, `value: not a finite number (${amount})`);
        continue;
      }
      if (!Number.isSafeInteger(ts) || ts < 0) {
        reject(entryId, `time: not a non-negative integer of epoch ms (${ts})`);
        continue;
      }
      const record: KeyedRecord = { group, member: options.member(value), value: amount, ts, entryId, spec };
      const dedupe = id?.(value);
      if (dedupe !== undefined) record.id = dedupe;
      records.push(record);
    }
    const { watermark } = envelope.payload;
    return {
      ...envelope,
      rejected: rejected ?? envelope.rejected,
      payload: watermark === undefined ? { records } : { records, watermark },
    };
  });
}
