/**
 * How a reducer folds one scored value onto another. Shared by the pre-aggregation and the
 * reference models of the tests, so they agree on ties; the apply script folds the same way.
 */
import type { Reducer } from '../types.js';

/** A value with the event time it was observed at. */
export interface Scored {
  value: number;
  ts: number;
}

/**
 * The value of `next` folded onto `current` (`next` came later in the stream). `count` counts
 * records: fold values of 1 (the aggregate stage does). Under `last`, the greater event time
 * wins, and of equal event times `next`: of two records with the same time, the one later in the
 * stream is taken to be the newer.
 *
 * @example
 * foldValue('last', { value: 1, ts: 5 }, { value: 2, ts: 5 }); // 2
 */
export function foldValue(reduce: Reducer, current: Scored, next: Scored): number {
  switch (reduce) {
    case 'sum':
    case 'count':
      return current.value + next.value;
    case 'max':
      return Math.max(current.value, next.value);
    case 'min':
      return Math.min(current.value, next.value);
    case 'last':
      return next.ts >= current.ts ? next.value : current.value;
  }
}

/**
 * Whether folding `next` onto `current` makes `next` the record that set the value (its event
 * time is then the one the `earliest` tie rule goes by): a sum by a non-zero value, a count, a new
 * extreme for max and min, the winner for last.
 *
 * @example
 * setsValue('max', { value: 5, ts: 1 }, { value: 5, ts: 2 }); // false: 5 was reached before
 */
export function setsValue(reduce: Reducer, current: Scored, next: Scored): boolean {
  switch (reduce) {
    case 'sum':
      return next.value !== 0;
    case 'count':
      return true;
    case 'max':
      return next.value > current.value;
    case 'min':
      return next.value < current.value;
    case 'last':
      return next.ts >= current.ts;
  }
}
