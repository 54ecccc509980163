/** Names and sizes every process of one deployment must agree on. */
export const DEFAULTS = {
  /** The stream family: keys `{lb:p}:...`. */
  name: 'lb',
  /** The workers' consumer group. */
  group: 'workers',
  partitions: 16,
} as const;
