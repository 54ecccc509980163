/**
 * What the fallback runner measures, per request kind, for the live listeners and for the
 * freshness probes: the same quantities k6 reports (http_reqs, http_req_failed,
 * http_req_duration, dropped_iterations, checks, the live and freshness metrics).
 */

export interface KindStats {
  kind: string;
  /** Requests the definition asked for (rate × time, summed over the steps). */
  planned: number;
  /** Answers received, whatever their status. */
  responses: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** Answers outside 2xx. */
  non2xx: number;
  /** Requests that got no answer: connection errors and timeouts. */
  errors: number;
  /** Latency of every answer, ms (request written to response complete). */
  latencies: number[];
  checks: CheckCounts;
}

export interface CheckCounts {
  passes: number;
  fails: number;
  /** Failures by check name. */
  failed: Record<string, number>;
}

export interface LiveStats {
  /** Listening windows opened. */
  streams: number;
  /** Windows that answered 200 and got at least one `top` event. */
  ok: number;
  /** `top` events received, the first of each window included. */
  topEvents: number;
  /** `top` events after the first of their window (snapshot changes pushed while listening). */
  updates: number;
  /** Windows by status code (0: no answer). */
  statuses: Record<string, number>;
  /** Windows that failed to connect or broke before their end. */
  errors: number;
  checks: CheckCounts;
}

/** The freshness probes of one mark scenario. */
export interface ProbeStats {
  /** Listening windows opened (one marker each). */
  windows: number;
  /** Windows whose marker showed in a `top` event after the first (live_markers_seen). */
  seen: number;
  /** Windows whose marker was already in the first `top` event (the stream connected late). */
  inFirst: number;
  /** Windows that failed to connect or broke before their end. */
  errors: number;
  /** Windows by status code (0: no answer). */
  statuses: Record<string, number>;
  /** Marker sent to the `updatedAt` of the first `top` event listing it, ms (live_freshness). */
  freshnessMs: number[];
  /** Marker sent to that event's arrival here, ms: freshness including the delivery. */
  deliveredMs: number[];
}

export interface FreshnessStats {
  /** By mark scenario name (the `scenario` tag of k6). */
  scenarios: Record<string, ProbeStats>;
  checks: CheckCounts;
}

export interface RunResult {
  test: string;
  runner: 'autocannon';
  /** Wall time of the load (set-up excluded), seconds. */
  seconds: number;
  /** Event-loop delay of the load generator during the load (it inflates the latencies it measures). */
  generatorDelayMs: { p99: number; max: number };
  kinds: Record<string, KindStats>;
  live?: LiveStats;
  freshness?: FreshnessStats;
}

export function emptyChecks(): CheckCounts {
  return { passes: 0, fails: 0, failed: {} };
}

export function emptyKindStats(kind: string): KindStats {
  return {
    kind,
    planned: 0,
    responses: 0,
    statuses: {},
    non2xx: 0,
    errors: 0,
    latencies: [],
    checks: emptyChecks(),
  };
}

export function emptyLiveStats(): LiveStats {
  return { streams: 0, ok: 0, topEvents: 0, updates: 0, statuses: {}, errors: 0, checks: emptyChecks() };
}

export function emptyProbeStats(): ProbeStats {
  return { windows: 0, seen: 0, inFirst: 0, errors: 0, statuses: {}, freshnessMs: [], deliveredMs: [] };
}

export function emptyFreshnessStats(): FreshnessStats {
  return { scenarios: {}, checks: emptyChecks() };
}

export function countStatus(statuses: Record<string, number>, status: number): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
}

export function recordCheck(checks: CheckCounts, name: string, passed: boolean): void {
  if (passed) {
    checks.passes++;
  } else {
    checks.fails++;
    checks.failed[name] = (checks.failed[name] ?? 0) + 1;
  }
}

/** Requests sent: answered or failed without an answer (k6's http_reqs). */
export function requestCount(stats: KindStats): number {
  return stats.responses + stats.errors;
}

/** k6's http_req_failed: the share of requests with no answer or an answer outside 2xx. */
export function failedRate(stats: KindStats[]): number {
  const total = stats.reduce((sum, s) => sum + requestCount(s), 0);
  const failed = stats.reduce((sum, s) => sum + s.non2xx + s.errors, 0);
  return total === 0 ? 0 : failed / total;
}

/** A percentile (0..100) of ascending values, interpolated between ranks as k6 does. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = (p / 100) * (sorted.length - 1);
  const low = Math.floor(index);
  const high = Math.ceil(index);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (index - low);
}

export function sortedLatencies(stats: KindStats): number[] {
  return sorted(stats.latencies);
}

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * k6's dropped_iterations for this runner: requests the plan asked for that were not sent, per
 * kind (a kind sending more than its plan does not make up for another sending less).
 */
export function droppedCount(stats: KindStats[]): number {
  return stats.reduce((sum, s) => sum + Math.max(0, Math.round(s.planned) - requestCount(s)), 0);
}
