/**
 * How a board's update policy folds one scored value onto another. Shared by the pre-aggregation,
 * the apply stage and the reference model of the tests, so all three agree on ties.
 */
import type { Policy } from '../types.js';

/** A value with the event time it was observed at. */
export interface Scored {
  value: number;
  ts: number;
}

/**
 * Folds `next` onto `current`. The result's `ts` is always the later event time, which is also the
 * event time of the winning value under `last`.
 * @param policy The board's update policy.
 * @param current The value so far.
 * @param next The value that arrived after it (in stream order).
 * @return A new scored value; the inputs are not changed.
 */
export function combine(policy: Policy, current: Scored, next: Scored): Scored {
  return { value: combinedValue(policy, current, next), ts: Math.max(current.ts, next.ts) };
}

/**
 * The value part of {@link combine}, allocation-free for the hot path.
 * Under `last`, an equal event time lets `next` win: of two events with the same time, the one
 * later in the stream is taken to be the newer.
 */
export function combinedValue(policy: Policy, current: Scored, next: Scored): number {
  switch (policy) {
    case 'sum':
      return current.value + next.value;
    case 'max':
      return Math.max(current.value, next.value);
    case 'min':
      return Math.min(current.value, next.value);
    case 'last':
      return next.ts >= current.ts ? next.value : current.value;
  }
}
