/** The few statistics the runner reports: a median and the spread around it. */

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Smallest and largest value. */
export function range(values: readonly number[]): [min: number, max: number] {
  return [Math.min(...values), Math.max(...values)];
}
