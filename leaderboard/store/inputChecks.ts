/**
 * The checks every store function runs on its input before touching the database, so a bad value
 * fails with a {@link StoreInputError} naming the field instead of a driver error (or, worse, a
 * row the reads cannot serve). The limits are those of the HTTP contract (API.md).
 */
import { checkWindowName } from '../../topology/windows/index.js';
import { BOARD_ID } from '../rules.js';
import { StoreInputError } from './storeInputError.js';

// C0 and C1 control characters (PostgreSQL cannot store NUL in text at all), and lone surrogates,
// which the drivers would silently turn into U+FFFD, so the stored id would differ from the given one.
const FORBIDDEN = /[\p{Cc}\p{Cs}]/u;

/** A user id: 1 to 128 characters (code points, as PostgreSQL's `length` counts), no control characters. */
export function checkUserId(value: unknown, field = 'userId'): string {
  if (typeof value !== 'string' || !isShortText(value, 128)) {
    throw new StoreInputError(field, 'a string of 1 to 128 characters without control characters', value);
  }
  return value;
}

/** Free text such as a display name: 1 to `max` characters, no control characters. */
export function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || !isShortText(value, max)) {
    throw new StoreInputError(field, `a string of 1 to ${max} characters without control characters`, value);
  }
  return value;
}

export function checkBoardId(value: unknown, field = 'board'): string {
  if (typeof value !== 'string' || !BOARD_ID.test(value)) {
    throw new StoreInputError(field, 'a board id matching ^[a-z0-9][a-z0-9_-]{0,63}$', value);
  }
  return value;
}

export function checkWindow(value: unknown, field = 'window'): string {
  const check = checkWindowName(value);
  if (!check.ok || check.name !== value) {
    throw new StoreInputError(
      field,
      'a window name (all, hour, day, week, month or a canonical ISO-8601 duration)',
      value,
    );
  }
  return check.name;
}

/** An integer in `[min, max]` (epoch milliseconds, ranks, sizes). */
export function checkInteger(
  value: unknown,
  field: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new StoreInputError(field, `an integer ${range}`, value);
  }
  return value;
}

export function checkFinite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new StoreInputError(field, 'a finite number', value);
  }
  return value;
}

export function checkArray(value: unknown, field: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new StoreInputError(field, 'an array', value);
  return value;
}

function isShortText(value: string, max: number): boolean {
  if (value.length === 0 || FORBIDDEN.test(value)) return false;
  // UTF-16 length bounds the code point count from above: only long strings need counting.
  if (value.length <= max) return true;
  let count = 0;
  for (const _ of value) if (++count > max) return false;
  return true;
}
