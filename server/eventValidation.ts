/**
 * The ingest's checks of score events on its hot path: the rules of the zod schemas in
 * `validation.ts` (which stay the source of truth), written out by hand.
 *
 * Why: zod costs a few microseconds per event (a parse context, issue lists, a copied object),
 * which a 1,000-event batch pays a thousand times. These checks only answer "valid or not" for a
 * body that came out of `JSON.parse` (and put its ids in NFC, as the schemas output them); any
 * body they refuse goes through the zod schema, so the 400 messages are zod's, word for word. `eventValidation.test.ts` proves with fast-check that
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
 * Longest raw id worth normalising: NFC turns at most 4 UTF-16 units into 1 (a decomposed
 * character of up to four code points), so a valid id (at most 256 units once normalised) is at
 * most 1,024 units as sent; twice that leaves room for error.
 */
const MAX_RAW_ID_UNITS = 2048;

/**
 * A user id or event id by the rule of `validation.ts` (`idSchema`): its NFC form when that is
 * 1 to 128 code points with no control characters (C0, DEL, C1), no zero-width or bidirectional
 * control characters and no lone surrogate; undefined when it is not a valid id.
 *
 * Ids are mostly ASCII: a string whose units are all below U+0300 (where the combining marks
 * begin) is its own NFC form and holds none of the invisible characters, so it is checked in
 * one pass without `normalize`.
 *
 * @example
 * normalizedId('e\u0301'); // 'é' (U+00E9)
 */
export function normalizedId(s: string): string | undefined {
  const n = s.length;
  if (n === 0 || n > MAX_RAW_ID_UNITS) return undefined;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x300) break;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return undefined;
  }
  if (i === n) return n <= 128 ? s : undefined;
  const id = s.normalize('NFC');
  return isValidNfcId(id) ? id : undefined;
}

/** Whether `normalizedId` accepts `s`. */
export function isValidId(s: string): boolean {
  return normalizedId(s) !== undefined;
}

/** The checks of an id already in NFC, in one pass over its UTF-16 units. */
function isValidNfcId(s: string): boolean {
  const n = s.length;
  // 128 code points are at most 256 UTF-16 units.
  if (n === 0 || n > 256) return false;
  let points = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0x600 && isInvisible(c)) return false;
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

/** The zero-width and bidirectional control characters of `INVISIBLE_CHARACTERS`. */
function isInvisible(c: number): boolean {
  return (
    c === 0x061c ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x202a && c <= 0x202e) ||
    c === 0x2060 ||
    (c >= 0x2066 && c <= 0x2069) ||
    c === 0xfeff
  );
}

/**
 * The fields both event shapes share, checked, with the ids in NFC written back into `e` (a
 * body fresh from `JSON.parse`, owned by the request); `now` bounds `ts` (24 hours ahead at most).
 */
function checkFields(e: Record<string, unknown>, now: number): boolean {
  const { userId, value, ts, eventId } = e;
  if (typeof userId !== 'string') return false;
  const user = normalizedId(userId);
  if (user === undefined) return false;
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (ts !== undefined) {
    if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < 0 || ts > now + MAX_FUTURE_MS) return false;
  }
  let event: string | undefined;
  if (eventId !== undefined) {
    if (typeof eventId !== 'string') return false;
    event = normalizedId(eventId);
    if (event === undefined) return false;
  }
  if (user !== userId) e.userId = user;
  if (event !== eventId) e.eventId = event;
  return true;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * `body` as a single event when `singleEventSchema` accepts it (at time `now`), with its ids in
 * NFC as the schema outputs them; undefined when the schema refuses it.
 */
export function checkedEvent(body: unknown, now: number): EventInput | undefined {
  if (!isPlainObject(body)) return undefined;
  for (const key in body) {
    if (key !== 'userId' && key !== 'value' && key !== 'ts' && key !== 'eventId') return undefined;
  }
  return checkFields(body, now) ? (body as unknown as EventInput) : undefined;
}

/** The same for an event of a batch and `batchEventSchema`. */
export function checkedBatchEvent(event: unknown, now: number): BatchEventInput | undefined {
  if (!isPlainObject(event)) return undefined;
  for (const key in event) {
    if (key !== 'board' && key !== 'userId' && key !== 'value' && key !== 'ts' && key !== 'eventId')
      return undefined;
  }
  const board = event.board;
  if (typeof board !== 'string' || !BOARD_ID.test(board)) return undefined;
  return checkFields(event, now) ? (event as unknown as BatchEventInput) : undefined;
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
  return checkedEvent(body, Date.now()) ?? parseBody(singleEventSchema, body);
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
    if (checkedBatchEvent(event, now)) continue;
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
