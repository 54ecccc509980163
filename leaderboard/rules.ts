/**
 * The leaderboard's rules for ids and names, written once: the edge's checks, the board config's
 * schema, the stream codec and the store all use these.
 */

/** A board id. */
export const BOARD_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const BOARD_ID_RULE = 'must match ^[a-z0-9][a-z0-9_-]{0,63}$';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Most code points in a user id or an eventId. */
export const MAX_ID_LENGTH = 128;

/**
 * A user id or eventId: 1 to 128 code points, no control characters (C0, DEL, C1), no lone
 * surrogate, in one pass over the UTF-16 units.
 *
 * @example
 * isValidId('ann'); // true
 * isValidId(''); // false
 */
export function isValidId(s: string): boolean {
  const n = s.length;
  // 128 code points are at most 256 UTF-16 units.
  if (n === 0 || n > 2 * MAX_ID_LENGTH) return false;
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
  return points <= MAX_ID_LENGTH;
}

/** The update policies of a board (the library's reducers it offers). */
export const POLICIES = ['sum', 'max', 'min', 'last'] as const;
export type Policy = (typeof POLICIES)[number];

export const ORDERS = ['desc', 'asc'] as const;

/** A board's tie rules (`first`: the library's `earliest`). */
export const TIE_BREAKS = ['shared', 'first'] as const;

/** The latest event time the windows accept (the end of year 9999), ms. */
/** Window names (`all`, `hour`, `day`, `week`, `month`, ISO-8601 durations): the library's rule. */
export { canonicalWindowName, checkWindowName, MAX_EVENT_TIME } from '../topology/windows/index.js';
