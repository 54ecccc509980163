/**
 * The contract's input rules (API.md) as zod schemas, and the conversion of their failures into
 * 400 errors that name the field (and, in a batch, the event's index).
 */
import { z } from 'zod';
import { BOARD_ID, CONTROL_CHARACTERS, checkWindowName, MAX_EVENT_TIME } from '../leaderboard/index.js';
import { HttpError } from './httpError.js';

/** How far ahead of the server's clock an event time may be (clock skew between clients). */
export const MAX_FUTURE_MS = 86_400_000;

const codePoints = (s: string) => [...s].length;

/**
 * A UTF-16 surrogate without its pair (JSON can carry one as "\ud800"). It is not a character and
 * has no UTF-8 form: Redis would store U+FFFD instead, merging distinct ids into one.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Characters that change how an id looks without being seen: zero-width ones (U+200B-U+200D,
 * U+2060, U+FEFF), which make two ids that look the same two users, and the bidirectional
 * controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which make an id display as
 * another. U+200B-U+200F is one run of both kinds.
 */
export const INVISIBLE_CHARACTERS = /[\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/;

/**
 * The one rule for user ids and eventIds (board ids have their own pattern): normalised to NFC
 * first, so the NFC and NFD spellings of "é" are one id; then 1 to 128 code points, no control
 * characters, no zero-width or bidirectional control characters, no lone surrogates. The parsed
 * value is the NFC form.
 */
const idSchema = () =>
  z
    .string({ error: 'must be a string' })
    .normalize('NFC')
    .refine((s) => codePoints(s) >= 1 && codePoints(s) <= 128, 'must be 1 to 128 characters')
    .refine((s) => !CONTROL_CHARACTERS.test(s), 'must not contain control characters')
    .refine(
      (s) => !INVISIBLE_CHARACTERS.test(s),
      'must not contain zero-width or bidirectional control characters',
    )
    .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone surrogates)');

export const ID_RULE =
  'Normalised to NFC by the server (the NFC and NFD spellings of an id are one id, stored and returned in NFC); then 1 to 128 characters (code points), no control characters (U+0000-U+001F, U+007F-U+009F), no zero-width characters (U+200B-U+200D, U+2060, U+FEFF), no bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), no lone surrogates. A refused id is 400 naming the field.';

export const userIdSchema = idSchema().meta({ description: ID_RULE });

const eventFields = {
  userId: userIdSchema,
  value: z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be a finite number'),
  ts: z
    .number({ error: 'must be epoch milliseconds (a number)' })
    .int('must be whole epoch milliseconds')
    .min(0, 'must not be negative')
    .refine((ts) => ts <= Date.now() + MAX_FUTURE_MS, 'must not be more than 24 hours in the future')
    .meta({ description: 'event time, epoch ms; default: when the server received it; at most 24 h ahead' })
    .optional(),
  eventId: idSchema()
    .meta({
      description: `A retry with the same eventId for the same board and user within 24 hours counts once. ${ID_RULE}`,
    })
    .optional(),
};

export const singleEventSchema = z.strictObject(eventFields);
export const batchEventSchema = z.strictObject({
  board: z
    .string({ error: 'must be a string' })
    .regex(BOARD_ID, 'must be a board id (^[a-z0-9][a-z0-9_-]{0,63}$)'),
  ...eventFields,
});
export const MAX_BATCH = 10_000;
export const batchSchema = z.strictObject({
  events: z
    .array(z.unknown(), { error: 'must be an array of events' })
    .min(1, 'must hold at least 1 event')
    .max(MAX_BATCH, `must hold at most ${MAX_BATCH} events`),
});

export const profileSchema = z.strictObject({
  name: z
    .string({ error: 'must be a string' })
    .refine((s) => codePoints(s.trim()) >= 1 && codePoints(s) <= 100, 'must be 1 to 100 characters')
    .refine((s) => !CONTROL_CHARACTERS.test(s), 'must not contain control characters'),
  avatarUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048, 'must be at most 2048 characters')
    .nullable()
    .optional(),
});

export const MAX_FRIENDS = 10_000;
export const friendsSchema = z.strictObject({
  friends: z.array(userIdSchema).max(MAX_FRIENDS, `must hold at most ${MAX_FRIENDS} ids`),
});

/** Parses a body with a schema or throws a 400 naming what is wrong. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, code = 'invalid-body', prefix = ''): T {
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  throw new HttpError(400, code, describeIssues(result.error, prefix));
}

export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      if (issue.code === 'unrecognized_keys')
        return `${path ? `${path}: ` : ''}unknown field(s) ${issue.keys.join(', ')}`;
      if (issue.code === 'invalid_type' && issue.input === undefined) return `${path}: is required`;
      return `${path || 'body'}: ${issue.message}`;
    })
    .join('; ');
}

/** Boards per page of `GET /v1/boards`, most and default. */
export const MAX_BOARDS_PAGE = 1000;

/**
 * The integer query parameters of the reads, once: the routes parse them with `queryInt`, the
 * OpenAPI description documents them from here.
 */
export const QUERY_PARAMS = {
  at: {
    min: 0,
    max: MAX_EVENT_TIME - 1,
    description: 'epoch ms inside the wanted window instance (default now)',
  },
  k: { min: 1, max: 1000, description: 'how many entries (default the board’s topK, 100 for friends)' },
  n: { min: 1, max: 100, description: 'entries on each side of the user (default 5)' },
  limit: { min: 1, max: 1000, description: 'entries per page (default 100)' },
  since: { min: 0, max: Number.MAX_SAFE_INTEGER, description: 'epoch ms: only the samples taken after it' },
} as const;

/**
 * A query parameter of `QUERY_PARAMS`, or the default when absent; 400 when it is not an integer
 * in its range.
 *
 * @example
 * const k = queryInt(c.req.query('k'), 'k', board.topK);
 */
export function queryInt(raw: string | undefined, name: keyof typeof QUERY_PARAMS, fallback: number): number {
  const { min, max } = QUERY_PARAMS[name];
  return intParam(raw, name, min, max, fallback);
}

/** An integer query parameter in [min, max], or the default when absent. */
export function intParam(
  raw: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw))
    throw new HttpError(400, 'invalid-query', `${name} must be an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new HttpError(400, 'invalid-query', `${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * The `window` query parameter: one of the board's windows, by any spelling of its name (`PT360M`
 * is the window `PT6H`); default `all` (or the board's first window).
 */
export function windowParam(raw: string | undefined, kept: readonly string[]): string {
  if (raw === undefined || raw === '') return kept.includes('all') ? 'all' : kept[0]!;
  const check = checkWindowName(raw);
  if (!check.ok) throw new HttpError(400, 'invalid-query', `window: ${check.message}`);
  if (!kept.includes(check.name)) {
    throw new HttpError(400, 'invalid-query', `this board keeps only the windows ${kept.join(', ')}`);
  }
  return check.name;
}
