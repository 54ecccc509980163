/**
 * How a score event is laid out in a stream entry. Short field names keep entries small, and
 * because every entry of a stream has the same fields, Redis stores the names once per node.
 *
 * Fields: `b` board, `u` user id, `v` value, `t` event time (epoch ms), `i` event id (optional).
 */
import { z } from 'zod';
import type { ScoreEvent } from './types.js';

export const BOARD_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** The schema of a decoded entry: what the edge guarantees, checked again on the way in. */
export const scoreEventSchema = z.object({
  b: z.string().regex(BOARD_ID, 'board id must match ^[a-z0-9][a-z0-9_-]{0,63}$'),
  u: z
    .string()
    .min(1)
    .max(128)
    .refine((u) => !CONTROL_CHARACTERS.test(u), 'user id must not contain control characters'),
  v: z.coerce.number().refine(Number.isFinite, 'value must be a finite number'),
  t: z.coerce.number().int().nonnegative(),
  i: z.string().min(1).max(128).optional(),
});

export type EncodedEvent = Omit<ScoreEvent, 'entryId'>;

/**
 * The flat field list of an event, ready for `XADD`.
 *
 * @example
 * encodeEvent({ board: 'global', userId: 'ann', value: 5, ts: Date.now() });
 * // ['b', 'global', 'u', 'ann', 'v', '5', 't', '1763856000000']
 */
export function encodeEvent(event: EncodedEvent): string[] {
  const fields = ['b', event.board, 'u', event.userId, 'v', String(event.value), 't', String(event.ts)];
  if (event.eventId !== undefined) fields.push('i', event.eventId);
  return fields;
}
