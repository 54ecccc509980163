/**
 * Decodes a partition batch's entries into score events with a schema; entries that fail are set
 * aside as rejected (with the reason), to be dead-lettered atomically with the batch's apply.
 */
import type { Batch } from 'redis-streams-consumer-groups';
import { map, type OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import { scoreEventSchema } from './eventCodec.js';
import type { Envelope, ParsedPayload, RejectedEntry, ScoreEvent } from './types.js';

type EventSchema = z.ZodType<z.infer<typeof scoreEventSchema>>;

/**
 * Turns consumer batches into envelopes of decoded events.
 *
 * Every entry of the batch stays in `ids`, so the whole batch is acknowledged together, while an
 * entry that does not decode goes to `rejected` instead of `events`: one bad entry never holds
 * back the rest, and never disappears without a trace.
 *
 * ## Example
 * ```ts
 * import { fromConsumer } from './source.js';
 * import { parseEvents } from './parseEvents.js';
 * fromConsumer(consumer).pipe(parseEvents()).subscribe((envelope) => console.log(envelope.payload.events));
 * ```
 *
 * @see fromConsumer
 * @see assignWindows
 * @param schema The entry schema; defaults to the leaderboard's `scoreEventSchema`.
 * @return A function that returns an Observable of envelopes with decoded events.
 */
export function parseEvents(
  schema: EventSchema = scoreEventSchema,
): OperatorFunction<Batch, Envelope<ParsedPayload>> {
  return map((batch) => {
    const events: ScoreEvent[] = [];
    const rejected: RejectedEntry[] = [];
    const ids = new Array<string>(batch.entries.length);
    for (let i = 0; i < batch.entries.length; i++) {
      const entry = batch.entries[i]!;
      ids[i] = entry.id;
      const result = schema.safeParse(entry.fields);
      if (result.success) {
        const { b, u, v, t, i: eventId } = result.data;
        const event: ScoreEvent = { board: b, userId: u, value: v, ts: t, entryId: entry.id };
        if (eventId !== undefined) event.eventId = eventId;
        events.push(event);
      } else {
        rejected.push({ id: entry.id, reason: describe(result.error) });
      }
    }
    return {
      partition: batch.partition,
      epoch: batch.epoch,
      token: batch.token,
      ids,
      firstId: batch.firstId,
      lastId: batch.lastId,
      rejected,
      payload: { events },
    };
  });
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`).join('; ');
}
