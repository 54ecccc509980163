/**
 * k6 thresholds evaluated on the fallback runner's measurements. The metrics it knows are the
 * ones the scenarios use: http_reqs, http_req_failed, http_req_duration (each for all kinds or
 * one, `metric{kind:top}`), dropped_iterations, checks, the live metrics, and the freshness
 * probes' metrics (for all mark scenarios or one, `live_freshness{scenario:markers_spike}`). Any
 * other metric, tag or expression is refused before the run starts rather than skipped.
 *
 * http_req_duration without a kind tag is judged per kind: it passes when it passes for every
 * kind. For percentiles, med, avg and max that is at least as strict as k6 (a statistic of the
 * whole lies between the lowest and the highest of its parts).
 */
import type { Threshold } from './definition.js';
import {
  droppedCount,
  failedRate,
  type KindStats,
  type ProbeStats,
  percentile,
  type RunResult,
  requestCount,
  sorted,
  sortedLatencies,
} from './stats.js';

export interface ThresholdResult {
  metric: string;
  expression: string;
  /** The measured value (NaN when the metric had no samples). */
  value: number;
  passed: boolean;
}

interface Parsed {
  metric: string;
  kind?: string;
  scenario?: string;
  statistic: string;
  /** For p(N). */
  p?: number;
  operator: string;
  bound: number;
}

const TREND = ['avg', 'min', 'med', 'max', 'p'];

const STATISTICS: Record<string, string[]> = {
  http_reqs: ['count', 'rate'],
  http_req_failed: ['rate'],
  http_req_duration: TREND,
  dropped_iterations: ['count'],
  checks: ['rate'],
  live_streams_ok: ['rate'],
  live_updates: ['count', 'rate'],
  live_markers_seen: ['rate'],
  live_freshness: TREND,
};

const TAGS: Record<string, Set<string>> = {
  kind: new Set(['http_reqs', 'http_req_failed', 'http_req_duration']),
  scenario: new Set(['live_markers_seen', 'live_freshness']),
};

function parse(key: string, threshold: Threshold): Parsed {
  const expression = typeof threshold === 'string' ? threshold : threshold.threshold;
  const metricMatch = /^([a-z_]+)(?:\{([a-z_]+):([a-z0-9_-]+)\})?$/.exec(key);
  const expressionMatch =
    /^\s*(count|rate|avg|min|med|max|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(
      expression,
    );
  if (!metricMatch || !expressionMatch) throw new Error(`threshold ${key}: '${expression}' is not supported`);
  const [, metric, tag, value] = metricMatch as unknown as [string, string, string?, string?];
  const statistic = expressionMatch[2] === undefined ? expressionMatch[1]! : 'p';
  if (!STATISTICS[metric]?.includes(statistic)) {
    throw new Error(`threshold ${key}: the fallback runner cannot evaluate '${expression}' on ${metric}`);
  }
  if (tag !== undefined && !TAGS[tag]?.has(metric))
    throw new Error(`threshold ${key}: the fallback runner has no ${tag} tag on ${metric}`);
  return {
    metric,
    kind: tag === 'kind' ? value : undefined,
    scenario: tag === 'scenario' ? value : undefined,
    statistic,
    p: expressionMatch[2] === undefined ? undefined : Number(expressionMatch[2]),
    operator: expressionMatch[3]!,
    bound: Number(expressionMatch[4]),
  };
}

/** Throws if a threshold of the test cannot be evaluated by the fallback runner. */
export function checkThresholds(thresholds: Record<string, Threshold[]>): void {
  for (const [key, list] of Object.entries(thresholds)) for (const threshold of list) parse(key, threshold);
}

function compare(value: number, operator: string, bound: number): boolean {
  if (Number.isNaN(value)) return false;
  switch (operator) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '==':
    case '===':
      return value === bound;
    default:
      return value !== bound;
  }
}

function trendStatistic(ascending: readonly number[], parsed: Parsed): number {
  if (ascending.length === 0) return Number.NaN;
  switch (parsed.statistic) {
    case 'avg':
      return ascending.reduce((sum, v) => sum + v, 0) / ascending.length;
    case 'min':
      return ascending[0]!;
    case 'max':
      return ascending[ascending.length - 1]!;
    case 'med':
      return percentile(ascending, 50);
    default:
      return percentile(ascending, parsed.p!);
  }
}

function durationStatistic(stats: KindStats, parsed: Parsed): number {
  return trendStatistic(sortedLatencies(stats), parsed);
}

/** The probes of the tagged mark scenario, or of all of them. */
function probesOf(result: RunResult, parsed: Parsed): ProbeStats[] {
  const all = result.freshness?.scenarios ?? {};
  if (parsed.scenario === undefined) return Object.values(all);
  return all[parsed.scenario] ? [all[parsed.scenario]!] : [];
}

/** The value a threshold is judged on; for untagged durations, the value of the worst kind. */
function measure(result: RunResult, parsed: Parsed): number {
  const all = Object.values(result.kinds);
  const kinds = parsed.kind === undefined ? all : all.filter((s) => s.kind === parsed.kind);
  const requests = kinds.reduce((sum, s) => sum + requestCount(s), 0);
  switch (parsed.metric) {
    case 'http_reqs':
      return parsed.statistic === 'count' ? requests : requests / result.seconds;
    case 'http_req_failed':
      return requests === 0 ? Number.NaN : failedRate(kinds);
    case 'http_req_duration': {
      const values = kinds.map((s) => durationStatistic(s, parsed));
      if (values.length === 0 || values.some(Number.isNaN)) return Number.NaN;
      return parsed.operator.startsWith('>') ? Math.min(...values) : Math.max(...values);
    }
    case 'dropped_iterations':
      return droppedCount(all);
    case 'checks': {
      const counts = [
        ...all.map((s) => s.checks),
        ...(result.live ? [result.live.checks] : []),
        ...(result.freshness ? [result.freshness.checks] : []),
      ];
      const passes = counts.reduce((sum, c) => sum + c.passes, 0);
      const total = passes + counts.reduce((sum, c) => sum + c.fails, 0);
      return total === 0 ? Number.NaN : passes / total;
    }
    case 'live_streams_ok':
      return result.live && result.live.streams > 0 ? result.live.ok / result.live.streams : Number.NaN;
    case 'live_markers_seen': {
      const probes = probesOf(result, parsed);
      const windows = probes.reduce((sum, p) => sum + p.windows, 0);
      return windows === 0 ? Number.NaN : probes.reduce((sum, p) => sum + p.seen, 0) / windows;
    }
    case 'live_freshness':
      return trendStatistic(sorted(probesOf(result, parsed).flatMap((p) => p.freshnessMs)), parsed);
    default: {
      const updates = result.live?.updates ?? Number.NaN;
      return parsed.statistic === 'count' ? updates : updates / result.seconds;
    }
  }
}

/** Every threshold of a test, judged; a metric without samples fails its thresholds. */
export function evaluateThresholds(
  thresholds: Record<string, Threshold[]>,
  result: RunResult,
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [key, list] of Object.entries(thresholds)) {
    for (const threshold of list) {
      const parsed = parse(key, threshold);
      const value = measure(result, parsed);
      results.push({
        metric: key,
        expression: typeof threshold === 'string' ? threshold : threshold.threshold,
        value,
        passed: compare(value, parsed.operator, parsed.bound),
      });
    }
  }
  return results;
}
