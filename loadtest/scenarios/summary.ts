/**
 * The fallback runner's end-of-test summary: one line per request kind, requests short of the
 * plan, the live metrics, the freshness probes, the thresholds.
 */
import type { FallbackOutcome } from './fallbackRunner.js';
import { droppedCount, percentile, requestCount, sorted, sortedLatencies } from './stats.js';

function cell(value: string | number, width: number): string {
  return String(value).padStart(width);
}

function ms(value: number): string {
  return Number.isNaN(value) ? '-' : value.toFixed(1);
}

export function formatSummary(outcome: FallbackOutcome): string {
  const { result, thresholds } = outcome;
  const lines = [`${result.test}: ${result.seconds.toFixed(1)} s of load (autocannon fallback runner)`];
  const header = [
    'kind',
    'requests',
    'planned',
    'req/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'non-2xx',
    'errors',
    'checks',
  ];
  const widths = [8, 9, 9, 8, 8, 8, 8, 8, 8, 7, 14];
  const row = (values: (string | number)[]) =>
    values.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]!) : cell(v, widths[i]!))).join(' ');
  lines.push(row(header));
  for (const stats of Object.values(result.kinds)) {
    const sorted = sortedLatencies(stats);
    const requests = requestCount(stats);
    lines.push(
      row([
        stats.kind,
        requests,
        Math.round(stats.planned),
        (requests / result.seconds).toFixed(1),
        ms(percentile(sorted, 50)),
        ms(percentile(sorted, 90)),
        ms(percentile(sorted, 99)),
        ms(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN),
        stats.non2xx,
        stats.errors,
        `${stats.checks.passes}/${stats.checks.passes + stats.checks.fails}`,
      ]),
    );
    for (const [name, count] of Object.entries(stats.checks.failed))
      lines.push(`  failed check '${name}': ${count}`);
    const other = Object.entries(stats.statuses).filter(([status]) => !status.startsWith('2'));
    if (other.length > 0) lines.push(`  statuses: ${other.map(([s, n]) => `${s} x${n}`).join(', ')}`);
  }
  lines.push(`dropped  ${droppedCount(Object.values(result.kinds))} requests short of the plan`);
  if (result.live) {
    const live = result.live;
    lines.push(
      `live     ${live.streams} listening windows, ${live.ok} with a top event, ` +
        `${live.topEvents} top events (${live.updates} updates after the first), ${live.errors} broken`,
    );
  }
  for (const [name, probes] of Object.entries(result.freshness?.scenarios ?? {})) {
    const fresh = sorted(probes.freshnessMs);
    const delivered = sorted(probes.deliveredMs);
    const figures = (values: number[]) =>
      `p50 ${ms(percentile(values, 50))}, p90 ${ms(percentile(values, 90))}, ` +
      `p99 ${ms(percentile(values, 99))}, max ${ms(values.length > 0 ? values[values.length - 1]! : Number.NaN)} ms`;
    lines.push(
      `fresh    ${name}: ${probes.windows} markers, ${probes.seen} seen` +
        (probes.inFirst > 0 ? ` (${probes.inFirst} already in the first top event)` : '') +
        `, ${probes.errors} broken; to updatedAt ${figures(fresh)}; to arrival here ${figures(delivered)}`,
    );
  }
  lines.push(
    `load generator event-loop delay: p99 ${ms(result.generatorDelayMs.p99)} ms, max ${ms(result.generatorDelayMs.max)} ms`,
  );
  lines.push('thresholds:');
  for (const t of thresholds) {
    const value = Number.isNaN(t.value)
      ? 'no samples'
      : String(Number.isInteger(t.value) ? t.value : Number(t.value.toPrecision(4)));
    lines.push(`  ${t.passed ? 'ok  ' : 'FAIL'} ${t.metric} ${t.expression} (${value})`);
  }
  lines.push(outcome.passed ? 'all thresholds passed' : 'some thresholds failed');
  return lines.join('\n');
}
