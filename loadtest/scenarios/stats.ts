/**
 * What the fallback runner measures, per request kind and for the live listeners: the same
 * quantities k6 reports (http_reqs, http_req_failed, http_req_duration, checks, live metrics).
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

export interface RunResult {
  test: string;
  runner: 'autocannon';
  /** Wall time of the load (set-up excluded), seconds. */
  seconds: number;
  /** Event-loop delay of the load generator during the load (it inflates the latencies it measures). */
  generatorDelayMs: { p99: number; max: number };
  kinds: Record<string, KindStats>;
  live?: LiveStats;
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
  return [...stats.latencies].sort((a, b) => a - b);
}
