/** Names and sizes every process of one deployment must agree on. */
export const DEFAULTS = {
  /** The stream family: keys `{lb:p...}:...`. */
  name: 'lb',
  /** The workers' consumer group. */
  group: 'workers',
  partitions: 16,
  /** The metrics' prefix: `lb_events_applied_total`, ... */
  metricsPrefix: 'lb',
} as const;
