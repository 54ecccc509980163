/**
 * The ingest's checks of score events on its hot path: the rules of the zod schemas in
 * `validation.ts` (which stay the source of truth), written out by hand.
 *
 * Why: zod costs a few microseconds per event (a parse context, issue lists, a copied object),
 * which a 1,000-event batch pays a thousand times. These checks only answer "valid or not" for a
 * body that came out of `JSON.parse`; any body they refuse goes through the zod schema, so the
 * 400 messages are zod's, word for word. `eventValidation.test.ts` proves with fast-check that
 * both agree on which bodies are valid and on what a valid body holds.
 */
import { BOARD_ID } from '../leaderboard/index.js';
import { HttpError } from './httpError.js';
import {
  batchEventSchema,
  batchSchema,
  describeIssues,
  MAX_BATCH,
  MAX_FUTURE_MS,
  parseBody,
  singleEventSchema,
} from './validation.js';

/** A single event's body (`POST /v1/boards/:board/events`), checked. */
export interface EventInput {
  userId: string;
  value: number;
  ts?: number;
  eventId?: string;
}

/** An event of a batch (`POST /v1/events`), checked. */
export interface BatchEventInput extends EventInput {
  board: string;
}

/**
 * A user id or event id: 1 to 128 code points, no control characters (C0, DEL, C1), no lone
 * surrogate; the three refinements of `userIdSchema` in one pass over the UTF-16 units.
 */
export function isValidId(s: string): boolean {
  const n = s.length;
  // 128 code points are at most 256 UTF-16 units.
  if (n === 0 || n > 256) return false;
  let points = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00) return false; // a low surrogate without its high half
      const next = s.charCodeAt(i + 1); // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
    points++;
  }
  return points <= 128;
}

/** The fields both event shapes share; `now` bounds `ts` (24 hours ahead at most). */
function validFields(e: Record<string, unknown>, now: number): boolean {
  const { userId, value, ts, eventId } = e;
  if (typeof userId !== 'string' || !isValidId(userId)) return false;
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (ts !== undefined) {
    if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < 0 || ts > now + MAX_FUTURE_MS) return false;
  }
  if (eventId !== undefined && (typeof eventId !== 'string' || !isValidId(eventId))) return false;
  return true;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Whether `singleEventSchema` accepts this parsed JSON body (at time `now`). */
export function isValidEvent(body: unknown, now: number): body is EventInput {
  if (!isPlainObject(body)) return false;
  for (const key in body) {
    if (key !== 'userId' && key !== 'value' && key !== 'ts' && key !== 'eventId') return false;
  }
  return validFields(body, now);
}

/** Whether `batchEventSchema` accepts this parsed JSON event (at time `now`). */
export function isValidBatchEvent(event: unknown, now: number): event is BatchEventInput {
  if (!isPlainObject(event)) return false;
  for (const key in event) {
    if (key !== 'board' && key !== 'userId' && key !== 'value' && key !== 'ts' && key !== 'eventId')
      return false;
  }
  const board = event.board;
  return typeof board === 'string' && BOARD_ID.test(board) && validFields(event, now);
}

/** Whether `batchSchema` accepts this parsed JSON body: `{"events": [1 to MAX_BATCH items]}`. */
export function isValidBatchBody(body: unknown): body is { events: unknown[] } {
  if (!isPlainObject(body)) return false;
  for (const key in body) if (key !== 'events') return false;
  const events = body.events;
  return Array.isArray(events) && events.length >= 1 && events.length <= MAX_BATCH;
}

/**
 * The body of a single-event ingest, or a 400 `invalid-body` with zod's message.
 *
 * @example
 * const event = parseEvent(JSON.parse('{"userId":"ann","value":5}'));
 */
export function parseEvent(body: unknown): EventInput {
  if (isValidEvent(body, Date.now())) return body;
  return parseBody(singleEventSchema, body);
}

/**
 * The events of a batch body, each checked: 400 `invalid-body` for the envelope, 400
 * `invalid-event` naming the index of the first bad event, with zod's messages.
 *
 * @example
 * const events = parseBatch(JSON.parse('{"events":[{"board":"global","userId":"ann","value":5}]}'));
 */
export function parseBatch(body: unknown): BatchEventInput[] {
  const events = isValidBatchBody(body) ? body.events : parseBody(batchSchema, body).events;
  const now = Date.now();
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (isValidBatchEvent(event, now)) continue;
    const result = batchEventSchema.safeParse(event, { reportInput: true });
    if (!result.success) {
      throw new HttpError(
        400,
        'invalid-event',
        `event ${i} is invalid: ${describeIssues(result.error, `events[${i}]`)}`,
      );
    }
    events[i] = result.data;
  }
  return events as BatchEventInput[];
}
