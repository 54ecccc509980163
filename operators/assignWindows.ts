/**
 * Gives every record the window instances of its group that it still counts in, and sets aside
 * the late ones, by event time.
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import { windowKey } from './stateKeys.js';
import type {
  Envelope,
  KeyedPayload,
  LateRecord,
  RejectedEntry,
  WindowedPayload,
  WindowedRecord,
  WindowInstance,
} from './types.js';
import { isClosed, type WindowDefinition } from './windowing.js';

export interface AssignWindowsOptions {
  /**
   * Stream time a partition starts from, e.g. the one stored with its checkpoint, so that a
   * restarted worker judges lateness as the one before it did. Asked again whenever a batch of the
   * partition comes under another lease epoch than the one before. Default: 0 (nothing seen yet).
   */
  initialStreamTime?: (partition: number) => number;
}

/**
 * Assigns window instances by event time.
 *
 * Each partition keeps a *stream time*: the greatest event time seen so far in it (as in Kafka
 * Streams). Lateness is judged against stream time rather than the wall clock, so a replay of old
 * data is not all late, and one partition's backlog does not close windows for another. For each
 * record, in order, stream time first advances to the record's time; then each instance of its
 * group's windows that contains the time and is closed for good (stream time >= end + grace)
 * yields a {@link LateRecord}, the others are kept on the record. A record whose instances are all
 * late appears only in `late`, and one that no instance holds at all (a window kind with gaps) is
 * rejected, to be dead-lettered: nothing is dropped silently. A batch's watermark (see
 * `decodeEntries`) moves stream time forward after its records.
 *
 * State is per subscription. Records of one instance share one {@link WindowInstance} object:
 * treat instances as read-only.
 *
 * ## Example
 * ```ts
 * import { assignWindows } from './assignWindows.js';
 * keyed$.pipe(assignWindows({ initialStreamTime: (p) => checkpoints.streamTime(p) ?? 0 }));
 * ```
 *
 * @see keyRecords
 * @see aggregate
 * @param options See {@link AssignWindowsOptions}.
 * @return A function that returns an Observable of the batches with windowed records.
 */
export function assignWindows(
  options: AssignWindowsOptions = {},
): OperatorFunction<Envelope<KeyedPayload>, Envelope<WindowedPayload>> {
  const initialStreamTime = options.initialStreamTime ?? (() => 0);
  return (source) =>
    defer(() => {
      // Per partition, the lease epoch its stream time was built under: a batch of another epoch
      // (the partition was lost and taken again, maybe after another owner advanced it, or after
      // batches of the old epoch that were never applied) starts again from initialStreamTime.
      const streamTimes = new Map<number, { epoch: number; streamTime: number }>();
      const instancesOf = instanceCache();

      return source.pipe(
        map((envelope): Envelope<WindowedPayload> => {
          const known = streamTimes.get(envelope.partition);
          let streamTime =
            known && known.epoch === envelope.epoch
              ? known.streamTime
              : initialStreamTime(envelope.partition);
          const records: WindowedRecord[] = [];
          const late: LateRecord[] = [];
          let rejected: RejectedEntry[] | undefined;

          for (const record of envelope.payload.records) {
            if (record.ts > streamTime) streamTime = record.ts;
            const windows: WindowInstance[] = [];
            let held = false;
            for (const definition of record.spec.windows) {
              for (const instance of instancesOf(definition, record.ts)) {
                held = true;
                if (isClosed(instance, streamTime, definition.graceMs)) {
                  late.push({ record, window: instance, streamTime });
                } else {
                  windows.push(instance);
                }
              }
            }
            if (windows.length > 0) {
              records.push({ record, windows });
            } else if (!held) {
              // No window holds its time at all (a window kind with gaps): dead-lettered, not lost.
              rejected ??= envelope.rejected.slice();
              rejected.push({
                id: record.entryId,
                reason: `no window of '${record.group}' holds time ${record.ts}`,
              });
            }
          }

          const { watermark } = envelope.payload;
          if (watermark !== undefined && watermark > streamTime) streamTime = watermark;
          streamTimes.set(envelope.partition, { epoch: envelope.epoch, streamTime });
          return {
            ...envelope,
            rejected: rejected ?? envelope.rejected,
            payload: { records, late, streamTime },
          };
        }),
      );
    });
}

/**
 * The instances of a window definition that contain a time, remembered per definition over the
 * span in which they stay the same: consecutive records almost always share their instances, so
 * the definition's arithmetic (a time zone's calendar, for example) runs once per span.
 */
function instanceCache(): (definition: WindowDefinition, ts: number) => WindowInstance[] {
  const last = new Map<WindowDefinition, { from: number; to: number; instances: WindowInstance[] }>();
  return (definition, ts) => {
    const known = last.get(definition);
    if (known && ts >= known.from && ts < known.to) return known.instances;
    const windows = definition.windowsFor(ts);
    if (windows.length === 0) return [];
    const instances = windows.map((w) => ({
      definition,
      start: w.start,
      end: w.end,
      key: windowKey(definition.name, w.start),
    }));
    // The same instances hold from the latest start to the earliest end, and, for hopping
    // windows (evenly spaced, oldest first), until the next one starts.
    let from = Number.NEGATIVE_INFINITY;
    let to = Number.POSITIVE_INFINITY;
    for (const w of windows) {
      from = Math.max(from, w.start);
      to = Math.min(to, w.end);
    }
    if (windows.length > 1) to = Math.min(to, from + (windows[1]!.start - windows[0]!.start));
    if (last.size > 1000) last.clear();
    last.set(definition, { from, to, instances });
    return instances;
  };
}
