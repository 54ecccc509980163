/**
 * Runs one test of the definition without k6: set-up as the k6 scripts do it, then every
 * scenario of the test side by side (traffic with autocannon, live listeners and freshness probes
 * with node:http), then the test's thresholds (plan.js' testThresholds: the definition's and the
 * dropped-requests budget) judged on what was measured.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LoadedDefinition, loadDefinition, type RequestKind, type Scales } from './definition.js';
import { runListeners } from './live.js';
import { runMarkers } from './markers.js';
import { prepare } from './prepare.js';
import {
  emptyFreshnessStats,
  emptyKindStats,
  emptyLiveStats,
  type FreshnessStats,
  type KindStats,
  type LiveStats,
  type RunResult,
} from './stats.js';
import type { Target } from './target.js';
import { checkThresholds, evaluateThresholds, type ThresholdResult } from './thresholds.js';
import { runTraffic } from './traffic.js';

export interface FallbackOptions {
  /** The test's name in scenarios.json, e.g. 'steady-mixed'. */
  test: string;
  target: Target;
  scales?: Scales;
  /** Default: loadtest/k6/scenarios.json and plan.js. */
  loaded?: LoadedDefinition;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

export interface FallbackOutcome {
  result: RunResult;
  thresholds: ThresholdResult[];
  passed: boolean;
}

export async function runWithAutocannon(options: FallbackOptions): Promise<FallbackOutcome> {
  const loaded = options.loaded ?? (await loadDefinition());
  const { plan, definition } = loaded;
  const log = options.log ?? (() => {});
  const test = plan.scaledTest(definition, options.test, options.scales);
  const thresholds = plan.testThresholds(test);
  checkThresholds(thresholds);

  const setupStarted = performance.now();
  await prepare(loaded, options.target, test);
  log(
    `set-up: board '${definition.board.id}', ${definition.data.users} users seeded` +
      (plan.needsFriendLists(test) ? `, ${definition.data.friendLists} friend lists` : '') +
      ` (${Math.round(performance.now() - setupStarted)} ms)`,
  );

  const kinds: Record<string, KindStats> = {};
  const statsOf = (kind: RequestKind | 'marker') => {
    kinds[kind] ??= emptyKindStats(kind);
    return kinds[kind];
  };
  let live: LiveStats | undefined;
  let freshness: FreshnessStats | undefined;
  log(`load: ${plan.testSeconds(test).toFixed(1)} s (${Object.keys(test.scenarios).join(', ')})`);
  // Latencies are measured in this process: a stalled event loop here shows up in them.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  await Promise.all(
    Object.entries(test.scenarios).map(async ([name, scenario]) => {
      if (scenario.startTime) await sleep(plan.parseDuration(scenario.startTime));
      if (scenario.exec === 'listen') {
        live ??= emptyLiveStats();
        await runListeners(loaded, options.target, scenario, live);
      } else if (scenario.exec === 'mark') {
        freshness ??= emptyFreshnessStats();
        await runMarkers(loaded, options.target, name, scenario, freshness, statsOf('marker'));
      } else {
        await runTraffic(loaded, options.target, scenario, statsOf);
      }
    }),
  );
  loopDelay.disable();
  const result: RunResult = {
    test: options.test,
    runner: 'autocannon',
    seconds: (performance.now() - started) / 1000,
    generatorDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    kinds,
    ...(live ? { live } : {}),
    ...(freshness ? { freshness } : {}),
  };
  const judged = evaluateThresholds(thresholds, result);
  return { result, thresholds: judged, passed: judged.every((t) => t.passed) };
}
