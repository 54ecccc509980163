/**
 * Decodes a partition batch's entries into records with the pipeline's codec; entries that fail
 * are set aside as rejected (with the reason), to be dead-lettered atomically with the batch's
 * apply.
 */
import type { Batch } from 'redis-streams-consumer-groups';
import { map, type OperatorFunction } from 'rxjs';
import { type Codec, WATERMARK_FIELD } from './codec.js';
import type { DecodedPayload, Envelope, RejectedEntry } from './types.js';

/**
 * Turns consumer batches into envelopes of decoded records.
 *
 * Every entry of the batch stays in `ids`, so the whole batch is acknowledged together, while an
 * entry that does not decode goes to `rejected` instead: one bad entry never holds back the rest,
 * and never disappears without a trace. A watermark entry (`WATERMARK_FIELD`) is no record: it
 * sets the batch's `watermark`.
 *
 * ## Example
 * ```ts
 * import { z } from 'zod';
 * import { jsonCodec } from './codec.js';
 * import { decodeEntries } from './decodeEntries.js';
 * source.batches
 *   .pipe(decodeEntries(jsonCodec(z.object({ sku: z.string(), price: z.number() }))))
 *   .subscribe((envelope) => console.log(envelope.payload.values.length, envelope.rejected));
 * ```
 *
 * @see fromConsumer
 * @see keyRecords
 * @param codec How the records are laid out in entries.
 * @return A function that returns an Observable of envelopes with decoded records.
 */
export function decodeEntries<T>(codec: Codec<T>): OperatorFunction<Batch, Envelope<DecodedPayload<T>>> {
  return map((batch) => {
    const values: DecodedPayload<T>['values'] = [];
    const rejected: RejectedEntry[] = [];
    let watermark: number | undefined;
    const ids = new Array<string>(batch.entries.length);
    for (let i = 0; i < batch.entries.length; i++) {
      const entry = batch.entries[i]!;
      ids[i] = entry.id;
      const mark = entry.fields[WATERMARK_FIELD];
      if (mark !== undefined) {
        const ts = Number(mark);
        if (Number.isSafeInteger(ts) && ts >= 0) watermark = Math.max(watermark ?? 0, ts);
        else rejected.push({ id: entry.id, reason: `${WATERMARK_FIELD}: not epoch ms (${mark})` });
        continue;
      }
      const decoded = codec.decode(entry.fields);
      if (decoded.ok) values.push({ value: decoded.value, entryId: entry.id });
      else rejected.push({ id: entry.id, reason: decoded.reason });
    }
    return {
      partition: batch.partition,
      epoch: batch.epoch,
      token: batch.token,
      ids,
      firstId: batch.firstId,
      lastId: batch.lastId,
      rejected,
      payload: watermark === undefined ? { values } : { values, watermark },
    };
  });
}
