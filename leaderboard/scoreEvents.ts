/**
 * Score events and how they are laid out in stream entries: one field `s` holding
 * `<board>\x1f<userId>\x1f<value>\x1f<ts>[\x1f<eventId>]` (none of these holds a control character,
 * so the unit separator cannot occur inside one). One field rather than five keeps entries small,
 * and the worker decodes 3 strings per entry instead of 11. Entries written field by field
 * (`b`, `u`, `v`, `t`, `i`: the layout before, and what a hand-written XADD may use) decode too.
 * The edge has checked every event it writes; the worker checks again, cheaply, because anything
 * may be in a stream, and dead-letters what does not pass.
 */
import type { Codec, Decoded } from '../topology/index.js';
import { BOARD_ID, isValidId, MAX_EVENT_TIME } from './rules.js';

export interface ScoreEvent {
  board: string;
  userId: string;
  value: number;
  /** Event time, epoch ms. */
  ts: number;
  eventId?: string;
}

const SEPARATOR = '\u001f';

/**
 * @example
 * scoreEventCodec.encode({ board: 'global', userId: 'ann', value: 5, ts: 1763856000000 });
 * // ['s', 'global\x1fann\x1f5\x1f1763856000000']
 */
export const scoreEventCodec: Codec<ScoreEvent> = {
  encode(event) {
    const packed = `${event.board}${SEPARATOR}${event.userId}${SEPARATOR}${event.value}${SEPARATOR}${event.ts}`;
    return ['s', event.eventId === undefined ? packed : `${packed}${SEPARATOR}${event.eventId}`];
  },
  decode(fields) {
    const packed = fields.s;
    if (packed !== undefined) {
      const parts = packed.split(SEPARATOR);
      if (parts.length !== 4 && parts.length !== 5)
        return { ok: false, reason: 's: not board, user, value, time[, eventId]' };
      return checked(parts[0]!, parts[1]!, parts[2]!, parts[3]!, parts[4]);
    }
    const { b, u, v, t, i } = fields;
    if (b === undefined || u === undefined || v === undefined || t === undefined) {
      return { ok: false, reason: 'entry: neither s nor b, u, v, t fields' };
    }
    return checked(b, u, v, t, i);
  },
};

function checked(
  board: string,
  userId: string,
  value: string,
  ts: string,
  eventId: string | undefined,
): Decoded<ScoreEvent> {
  if (!BOARD_ID.test(board)) return { ok: false, reason: `board: '${board}' is not a board id` };
  if (!isValidId(userId))
    return { ok: false, reason: 'user id: must be 1 to 128 characters without control characters' };
  const amount = Number(value);
  if (value === '' || !Number.isFinite(amount))
    return { ok: false, reason: `value: '${value}' is not a finite number` };
  const time = Number(ts);
  // Number('') is 0: an empty time would count as an event of 1970.
  if (ts === '' || !Number.isSafeInteger(time) || time < 0 || time >= MAX_EVENT_TIME) {
    return { ok: false, reason: `time: '${ts}' is not epoch milliseconds` };
  }
  if (eventId !== undefined && !isValidId(eventId)) {
    return { ok: false, reason: 'eventId: must be 1 to 128 characters without control characters' };
  }
  const event: ScoreEvent = { board, userId, value: amount, ts: time };
  if (eventId !== undefined) event.eventId = eventId;
  return { ok: true, value: event };
}
