/**
 * A linear scan of a JSON text's structure before `JSON.parse` sees it: how deep its arrays and
 * objects nest, and how many values it holds. Both are refused past small limits (400) without
 * parsing.
 *
 * Why: `JSON.parse` blocks the event loop for as long as it runs, and its cost depends on the
 * structure far more than on the size. Measured on this machine (Node 20, `JSON.parse` of 8 MiB):
 * a legitimate batch of 10,000 events 11 ms; 4 million `0`s 83 ms; 2.8 million empty objects
 * 520 ms; one object with 800,000 keys 390 ms; 3 million nested `[` (6 MB) 700 ms, then a
 * failure. Capping the size alone would have to cut it to a few hundred KiB to bound these; the
 * structure caps bound them at any size while every legitimate body passes (a batch of 10,000
 * events of five fields holds about 60,000 values).
 *
 * The scan counts `[` and `{` outside strings for the depth, and `,`, `[` and `{` for the
 * values (an upper bound of the values and object members the parse would build). It never
 * judges whether the text is JSON; `JSON.parse` does that after it.
 */

export interface JsonShapeLimits {
  /** Arrays and objects nested deeper than this are refused. */
  maxDepth: number;
  /** Texts holding more values (and object members) than this are refused. */
  maxValues: number;
}

/** What a text is over, if anything. */
export type JsonShapeExcess = 'depth' | 'values';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/** The ASCII characters the scan stops at; every other character is skipped with one lookup. */
const SPECIAL = new Uint8Array(128);
for (const c of [QUOTE, BACKSLASH, OPEN_ARRAY, OPEN_OBJECT, CLOSE_ARRAY, CLOSE_OBJECT, COMMA]) SPECIAL[c] = 1;

/**
 * Which limit `text` is over (the first one met), or undefined when it is within both.
 *
 * @example
 * jsonShapeExcess('[[[1]]]', { maxDepth: 2, maxValues: 100 }); // 'depth'
 */
export function jsonShapeExcess(text: string, limits: JsonShapeLimits): JsonShapeExcess | undefined {
  const { maxDepth, maxValues } = limits;
  const n = text.length;
  let depth = 0;
  let values = 1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || SPECIAL[c] === 0) continue;
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return undefined; // unterminated: JSON.parse will say so
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return 'depth';
      if (++values > maxValues) return 'values';
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else if (c === COMMA) {
      if (++values > maxValues) return 'values';
    }
  }
  return undefined;
}

/**
 * The index of the quote closing the string opened at `open`, or -1. Long strings (ids, padding)
 * are crossed with one `indexOf`; once a quote turns out escaped, the rest of the string is walked
 * character by character, so a string dense with escapes costs no more than one pass either.
 */
function stringEnd(text: string, open: number): number {
  const end = text.indexOf('"', open + 1);
  if (end < 0) return -1;
  if (text.charCodeAt(end - 1) !== BACKSLASH) return end;
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}
