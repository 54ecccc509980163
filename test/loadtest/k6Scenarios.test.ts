/**
 * The load scenarios: the k6 scripts load only what k6 provides, use no syntax an old k6 cannot
 * parse, and export what their options name; the definition becomes the plan scenarios.json
 * says (the freshness scenario in full); and every scenario, run briefly by the autocannon
 * fallback runner against a real service (Redis, PGlite, workers), sends every request kind of
 * its mix with no error, no non-2xx answer and no failed check. The k6 scripts under a real k6
 * are in k6Binary.test.ts (skipped when no k6 is installed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedDefinition, loadDefinition } from '../../loadtest/scenarios/definition.js';
import { runWithAutocannon } from '../../loadtest/scenarios/fallbackRunner.js';
import {
  emptyFreshnessStats,
  emptyKindStats,
  emptyProbeStats,
  type RunResult,
  requestCount,
} from '../../loadtest/scenarios/stats.js';
import { checkThresholds, evaluateThresholds } from '../../loadtest/scenarios/thresholds.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import {
  exportedNames,
  isK6Module,
  k6ImportViolations,
  moduleUses,
  syntaxOldK6Rejects,
} from './k6Modules.js';

const loaded: LoadedDefinition = await loadDefinition();
const { dir, definition, plan } = loaded;
const tests = Object.keys(definition.tests);
const scripts = readdirSync(dir).filter((f) => f.endsWith('.js'));
const read = (file: string) => readFileSync(join(dir, file), 'utf8');

interface K6Options {
  scenarios: Record<
    string,
    { exec: string; stages?: { duration: string; target: number }[]; vus?: number; startTime?: string }
  >;
  thresholds: Record<string, unknown>;
  summaryTrendStats: string[];
}

describe('the k6 import check', () => {
  const violations = (source: string) => k6ImportViolations(source, join(dir, 'probe.js'));

  it('passes k6 modules and files of the k6 folder', () => {
    const source = [
      "import http from 'k6/http';",
      "import { check, sleep } from 'k6';",
      "import exec from 'k6/execution';",
      "import { Rate } from 'k6/metrics';",
      "import { WebSocket } from 'k6/experimental/websockets';",
      "import { pickKind } from './plan.js';",
      "export { optionsFor } from './common.js';",
    ].join('\n');
    expect(violations(source)).toEqual([]);
  });

  it('fails Node built-ins, npm packages, other folders, missing files, require and dynamic imports', () => {
    const cases: Record<string, string> = {
      "import { readFileSync } from 'node:fs';": "'node:fs' is not a k6 module",
      "import fs from 'fs';": "'fs' is not a k6 module",
      "import autocannon from 'autocannon';": "'autocannon' is not a k6 module",
      "import x from 'k6x';": "'k6x' is not a k6 module",
      "export * from 'lodash';": "'lodash' is not a k6 module",
      "import { createApp } from '../../server/app.js';": "'../../server/app.js' is not a k6 module",
      "import { nothing } from './missing.js';": "'./missing.js' does not exist",
      "const http = require('k6/http');": "require('k6/http')",
      "const plan = await import('./plan.js');": "dynamic import('./plan.js')",
      "import http from 'k6/http';\nexport const x = ;": 'syntax error at line 2',
    };
    for (const [source, expected] of Object.entries(cases)) {
      const found = violations(source);
      expect(found, source).toHaveLength(1);
      expect(found[0], source).toContain(expected);
    }
  });

  it('reads the syntax, not the text: imports in comments and strings are not imports', () => {
    const source = [
      "// import fs from 'node:fs';",
      "/* import x from 'y'; */",
      'const text = "import z from \'z\'";',
      "import http from 'k6/http';",
    ].join('\n');
    expect(moduleUses(source, 'probe.js').map((u) => u.specifier)).toEqual(['k6/http']);
  });

  it('knows k6 module names', () => {
    expect(['k6', 'k6/http', 'k6/metrics', 'k6/experimental/websockets'].every(isK6Module)).toBe(true);
    expect(['k6x', 'k6/', 'k6/../fs', 'node:k6', './k6'].some(isK6Module)).toBe(false);
  });
});

describe('the k6 scripts', () => {
  it('are one per scenario of scenarios.json, plus the shared common.js and plan.js', () => {
    expect(scripts.sort()).toEqual([...tests.map((t) => `${t}.js`), 'common.js', 'plan.js'].sort());
  });

  it.each(scripts)('%s imports only k6 modules and files of the k6 folder', (file) => {
    expect(k6ImportViolations(read(file), join(dir, file))).toEqual([]);
  });

  it.each(scripts)('%s uses no syntax k6 before v0.53 rejects (so its version check can speak)', (file) => {
    expect(syntaxOldK6Rejects(read(file), file)).toEqual([]);
  });

  it('plan.js imports nothing (the Node runner loads it too)', () => {
    expect(moduleUses(read('plan.js'), 'plan.js')).toEqual([]);
  });

  it.each(tests)('%s.js exports options, setup and the exec function of every scenario', (test) => {
    const exported = exportedNames(read(`${test}.js`), `${test}.js`);
    const options = plan.k6Options(definition, test) as unknown as K6Options;
    expect(exported).toEqual(expect.arrayContaining(['options', 'setup']));
    for (const scenario of Object.values(options.scenarios)) expect(exported).toContain(scenario.exec);
    // k6 options carry k6 keys only; the mix and listening time stay in the definition.
    for (const scenario of Object.values(options.scenarios)) {
      expect(Object.keys(scenario)).not.toContain('mix');
      expect(Object.keys(scenario)).not.toContain('listen');
      expect(Object.keys(scenario)).not.toContain('markAfter');
    }
    expect(Object.keys(options.thresholds)).toContain('http_req_failed');
    expect(Object.keys(options.thresholds)).toContain('dropped_iterations');
    expect(options.summaryTrendStats).toEqual(expect.arrayContaining(['p(90)', 'p(95)', 'p(99)']));
  });

  it('scale durations and rates in the options k6 gets', () => {
    const full = plan.k6Options(definition, 'ingest-spike') as unknown as K6Options;
    const scaled = plan.k6Options(definition, 'ingest-spike', {
      duration: 0.1,
      rate: 0.5,
    }) as unknown as K6Options;
    const [name, scenario] = Object.entries(full.scenarios)[0]!;
    const first = scenario.stages![0]!;
    const scaledFirst = scaled.scenarios[name]!.stages![0]!;
    expect(plan.parseDuration(scaledFirst.duration)).toBe(plan.parseDuration(first.duration) / 10);
    expect(scaledFirst.target).toBe(Math.round(first.target / 2));
    expect(plan.parseDuration('1m30s')).toBe(90_000);
    expect(() => plan.parseDuration('10 seconds')).toThrow(/invalid duration/);
  });
});

describe('the syntax check for old k6', () => {
  it('finds each construct k6 before v0.53 cannot parse, once', () => {
    const cases: Record<string, string> = {
      'const a = b?.c;': 'optional chaining',
      'const a = b?.[0];': 'optional chaining',
      'const a = f?.();': 'optional chaining',
      'const a = b ?? 1;': 'nullish coalescing',
      'a ||= 1;': 'logical assignment (||=)',
      'a ??= 1;': 'logical assignment (??=)',
      'const a = { ...b };': 'object spread',
      'const { x, ...rest } = b;': 'object rest',
      'try { f(); } catch { g(); }': 'catch without a binding',
      'const a = 10_000;': 'numeric separator',
      'const a = 10n;': 'BigInt literal',
      'class A { x = 1; }': 'class field',
      'const a = import.meta.url;': 'import.meta',
    };
    for (const [source, expected] of Object.entries(cases)) {
      const found = syntaxOldK6Rejects(source, 'probe.js');
      expect(found, source).toHaveLength(1);
      expect(found[0], source).toContain(expected);
    }
  });

  it('passes what old k6 parses: array spread, rest parameters, catch with a binding, async functions', () => {
    const source = [
      'const a = [...b];',
      'function f(...args) { return args; }',
      'try { f(); } catch (_) { g(); }',
      'export async function mark() { await f(); }',
      'const c = d && d.e;',
    ].join('\n');
    expect(syntaxOldK6Rejects(source, 'probe.js')).toEqual([]);
  });
});

describe('the plan of a run', () => {
  const only = (name: string, test: object) =>
    ({ ...definition, tests: { [name]: test } }) as typeof definition;

  it('plans the requests k6 starts: rate x time, ramps linearly, as the README tables list them', () => {
    // ingest-spike: 18,000 single events and 440 batches; steady-mixed: 500/s for 30 s.
    expect(plan.plannedIterations(plan.testOf(definition, 'ingest-spike'))).toBe(18_440);
    expect(plan.plannedIterations(plan.testOf(definition, 'steady-mixed'))).toBe(15_000);
    // Listeners and probes are not arrival-rate iterations.
    const readHeavy = plan.testOf(definition, 'read-heavy');
    expect(plan.plannedIterations(readHeavy)).toBe(30_000 + 1_500);
  });

  it('adds a dropped_iterations budget of maxDropped times the planned requests, default none', () => {
    const spike = plan.testOf(definition, 'ingest-spike');
    const budget = Math.floor(spike.maxDropped! * 18_440);
    expect(plan.testThresholds(spike).dropped_iterations).toEqual([`count<=${budget}`]);
    const strict = { ...spike, maxDropped: undefined };
    expect(plan.testThresholds(strict).dropped_iterations).toEqual(['count<=0']);
    const scaled = plan.scaledTest(definition, 'ingest-spike', { duration: 0.5 });
    expect(plan.testThresholds(scaled).dropped_iterations).toEqual([`count<=${Math.floor(budget / 2)}`]);
    // The definition's own thresholds are all there.
    expect(plan.testThresholds(spike)).toMatchObject(spike.thresholds);
  });

  it.each(
    tests,
  )('%s pre-allocates VUs for its peak rate over its kinds p99 bound (no VU runs out before a threshold fails)', (name) => {
    const test = plan.testOf(definition, name);
    const bound = (kind: string) => {
      const expressions = [
        ...(test.thresholds[`http_req_duration{kind:${kind}}`] ?? []),
        ...(test.thresholds.http_req_duration ?? []),
      ].map((t) => (typeof t === 'string' ? t : t.threshold));
      const bounds = expressions.flatMap((e) => /^p\(99\)<(\d+)$/.exec(e)?.[1] ?? []).map(Number);
      expect(bounds.length, `${name}: a p(99) bound for ${kind}`).toBeGreaterThan(0);
      return Math.min(...bounds);
    };
    for (const [scenarioName, scenario] of Object.entries(test.scenarios)) {
      if (scenario.exec !== 'traffic') continue;
      const peak = Math.max(
        scenario.rate ?? 0,
        scenario.startRate ?? 0,
        ...(scenario.stages ?? []).map((s) => s.target),
      );
      const slowest = Math.max(...Object.keys(scenario.mix!).map(bound));
      expect(scenario.preAllocatedVUs, `${name}.${scenarioName}`).toBeGreaterThanOrEqual(
        Math.ceil((peak * slowest) / 1000),
      );
      expect(scenario.maxVUs, `${name}.${scenarioName}`).toBeGreaterThanOrEqual(scenario.preAllocatedVUs!);
    }
  });

  it('refuses a maxDropped outside 0..1', () => {
    const spike = definition.tests['ingest-spike']!;
    expect(() => plan.testOf(only('x', { ...spike, maxDropped: 1.5 }), 'x')).toThrow(/maxDropped/);
  });

  it('gives k6 an untagged http_req_duration threshold per request kind, never over the live windows', () => {
    const readHeavy = definition.tests['read-heavy']!;
    const untagged = only('x', {
      ...readHeavy,
      thresholds: { ...readHeavy.thresholds, http_req_duration: ['p(95)<50'] },
    });
    const { thresholds } = plan.k6Options(untagged, 'x') as unknown as K6Options;
    expect(thresholds.http_req_duration).toBeUndefined();
    expect(thresholds['http_req_duration{kind:top}']).toEqual(['p(99)<100', 'p(95)<50']);
    expect(thresholds['http_req_duration{kind:ingest}']).toEqual(['p(99)<250', 'p(95)<50']);
    expect(thresholds['http_req_duration{kind:live}']).toEqual([]);
  });

  it("lists every kind's durations and every traffic scenario's drops in k6's summary", () => {
    const { thresholds } = plan.k6Options(definition, 'read-heavy') as unknown as K6Options;
    expect(thresholds['http_req_duration{kind:live}']).toEqual([]);
    expect(thresholds['dropped_iterations{scenario:top_readers}']).toEqual([]);
    expect(thresholds['dropped_iterations{scenario:writers}']).toEqual([]);
    expect(thresholds['dropped_iterations{scenario:live_listeners}']).toBeUndefined();
  });

  it('scales listening windows with the durations, down to 2 s; a window given shorter stays', () => {
    const listen = (scale: number, test = 'read-heavy', scenario = 'live_listeners') =>
      plan.parseDuration(plan.scaledTest(definition, test, { duration: scale }).scenarios[scenario]!.listen!);
    expect(listen(1)).toBe(5_000);
    expect(listen(0.5)).toBe(2_500);
    expect(listen(0.05)).toBe(2_000);
    const readHeavy = definition.tests['read-heavy']!;
    const short = only('x', {
      ...readHeavy,
      scenarios: { listeners: { ...readHeavy.scenarios.live_listeners!, listen: '1s' } },
    });
    expect(
      plan.parseDuration(plan.scaledTest(short, 'x', { duration: 0.1 }).scenarios.listeners!.listen!),
    ).toBe(1_000);
  });
});

describe('the freshness scenario', () => {
  const test = plan.testOf(definition, 'freshness');
  const options = plan.k6Options(definition, 'freshness') as unknown as K6Options;
  const markScenarios = Object.entries(test.scenarios).filter(([, s]) => s.exec === 'mark');
  const traffic = Object.entries(test.scenarios).filter(([, s]) => s.exec === 'traffic');

  it('is in scenarios.json and has its script, exporting the exec functions its scenarios run', () => {
    expect(tests).toContain('freshness');
    expect(scripts).toContain('freshness.js');
    const exported = exportedNames(read('freshness.js'), 'freshness.js');
    expect(exported).toEqual(expect.arrayContaining(['options', 'setup', 'traffic', 'mark']));
  });

  it('gives k6 the scenarios of scenarios.json, k6 keys only', () => {
    // Durations in milliseconds: plan.js writes them as '5000ms'.
    const inMs = (scenario: object) =>
      JSON.parse(JSON.stringify(scenario), (key, value) =>
        ['duration', 'startTime'].includes(key) ? plan.parseDuration(value) : value,
      );
    expect(Object.keys(options.scenarios).sort()).toEqual(Object.keys(test.scenarios).sort());
    for (const [name, scenario] of Object.entries(test.scenarios)) {
      const { mix: _mix, listen: _listen, markAfter: _markAfter, ...k6Keys } = scenario;
      expect(inMs(options.scenarios[name]!), name).toEqual(inMs(k6Keys));
    }
  });

  it("judges the thresholds of scenarios.json, each probe scenario's freshness among them", () => {
    for (const [key, list] of Object.entries(test.thresholds))
      expect(options.thresholds[key], key).toEqual(list);
    expect(options.thresholds.dropped_iterations).toEqual([
      `count<=${Math.floor(test.maxDropped! * plan.plannedIterations(test))}`,
    ]);
    expect(markScenarios.length).toBeGreaterThanOrEqual(2);
    for (const [name] of markScenarios) {
      expect(test.thresholds[`live_freshness{scenario:${name}}`], name).toBeDefined();
      expect(test.thresholds[`live_markers_seen{scenario:${name}}`], name).toBeDefined();
    }
    // Every threshold is one the autocannon runner evaluates too.
    expect(() => checkThresholds(plan.testThresholds(test))).not.toThrow();
  });

  it('spikes ingest tenfold, with probes before the spike and through it', () => {
    for (const [name, scenario] of traffic) {
      const peak = Math.max(...scenario.stages!.map((stage) => stage.target));
      expect(peak / scenario.startRate!, name).toBe(10);
    }
    const stages = traffic[0]![1].stages!;
    const ms = (text?: string) => (text === undefined ? 0 : plan.parseDuration(text));
    const rampStart = ms(stages[0]!.duration);
    const peakEnd = stages.slice(0, 3).reduce((sum, stage) => sum + ms(stage.duration), 0);
    const base = test.scenarios.markers_base!;
    const spike = test.scenarios.markers_spike!;
    // A probe started before its scenario's end runs a whole window.
    expect(ms(base.startTime) + ms(base.duration) + ms(base.listen)).toBeLessThanOrEqual(rampStart);
    expect(ms(spike.startTime)).toBe(rampStart);
    expect(ms(spike.startTime) + ms(spike.duration) + ms(spike.listen)).toBeLessThanOrEqual(peakEnd);
  });

  it('sends markers of fresh users whose value outranks every score the load gives and every earlier marker', () => {
    const sentAt = Date.parse('2026-01-01T00:00:00Z');
    const marker = plan.markerRequest(definition, 'markers_spike-3-7', sentAt);
    expect(marker).toMatchObject({ kind: 'marker', method: 'POST', status: 202, key: 'ingest' });
    expect(marker.path).toBe(`/v1/boards/${definition.board.id}/events`);
    expect(JSON.parse(marker.body!)).toEqual({ userId: marker.userId, value: sentAt });
    expect(marker.userId).not.toBe(plan.markerRequest(definition, 'markers_spike-3-8', sentAt).userId);
    // The seeded users and the load add at most valueMax per event.
    expect(sentAt).toBeGreaterThan(1e6 * definition.requests.valueMax);
    const checks = plan.checksFor('marker', definition);
    expect(Object.values(checks).every((ok) => ok(202, { accepted: 1 }))).toBe(true);
    expect(Object.values(checks).every((ok) => ok(503, null))).toBe(false);
  });

  it('keeps probe VUs and markAfter as given when rates and durations scale', () => {
    const scaled = plan.scaledTest(definition, 'freshness', { duration: 0.1, rate: 3 });
    for (const [name, scenario] of markScenarios) {
      expect(scaled.scenarios[name]!.vus, name).toBe(scenario.vus);
      expect(scaled.scenarios[name]!.markAfter, name).toBe(scenario.markAfter);
    }
  });

  it('refuses probes that could not be seen: more VUs than the top holds, markAfter past the window', () => {
    const base = test.scenarios.markers_base!;
    const withProbe = (probe: object) =>
      ({
        ...definition,
        tests: { x: { ...test, scenarios: { probe: { ...base, ...probe } } } },
      }) as typeof definition;
    expect(() => plan.testOf(withProbe({ vus: definition.requests.topK + 1 }), 'x')).toThrow(/topK/);
    expect(() => plan.testOf(withProbe({ markAfter: base.listen }), 'x')).toThrow(/markAfter/);
    expect(() => plan.testOf(withProbe({ markAfter: undefined }), 'x')).toThrow(/markAfter/);
    expect(() => plan.testOf(withProbe({ executor: 'constant-arrival-rate' }), 'x')).toThrow(/traffic/);
  });
});

describe('reading the live stream', () => {
  const top = (version: number, updatedAt: number, users: string[]) =>
    `event: top\nid: ${version}\ndata: ${JSON.stringify({
      version,
      updatedAt,
      entries: users.map((userId, i) => ({ rank: i + 1, userId, score: 1 })),
    })}\n\n`;

  it('parses complete events, skips comments, reads CRLF, leaves out an event cut off at the end', () => {
    const text = `${top(1, 10, ['a'])}: heartbeat\n\nevent: top\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: top\ndata: {"cut`;
    expect(plan.sseEvents(text)).toEqual([
      {
        event: 'top',
        id: '1',
        data: JSON.stringify({ version: 1, updatedAt: 10, entries: [{ rank: 1, userId: 'a', score: 1 }] }),
      },
      { event: 'top', id: null, data: '{"a":\n1}' },
    ]);
    expect(plan.sseEvents('data: x\n\n')).toEqual([{ event: 'message', id: null, data: 'x' }]);
    expect(plan.sseEvents('')).toEqual([]);
  });

  it('finds the first top event listing the marker, and its updatedAt less the send time', () => {
    const events = plan.sseEvents(
      top(1, 1000, ['a']) + top(2, 1040, ['a', 'b']) + top(3, 1090, ['m', 'a']) + top(4, 1100, ['m']),
    );
    expect(plan.markerSighting(events, 'm', 1010)).toEqual({
      index: 2,
      inFirst: false,
      appearedAt: 1090,
      freshnessMs: 80,
    });
    expect(plan.markerSighting(events, 'a', 990)).toMatchObject({ index: 0, inFirst: true });
    const missing = plan.markerSighting(events, 'nobody', 1000);
    expect(missing).toMatchObject({ index: -1, inFirst: false, appearedAt: null });
    expect(missing.freshnessMs).toBeNaN();
  });
});

describe('the k6 version check', () => {
  it('passes k6 from MIN_K6_VERSION on, by the version in its default User-Agent', () => {
    expect(plan.MIN_K6_VERSION).toBe('1.0.0');
    for (const agent of [
      'Grafana k6/1.3.0',
      'Grafana k6/1.0.0',
      'k6/2.0.1 (https://k6.io/)',
      'Grafana k6/1.10.0',
    ])
      expect(plan.k6VersionProblem(agent), agent).toBeNull();
  });

  it('names the version needed and the version found for an older k6', () => {
    expect(plan.k6VersionProblem('k6/0.52.0 (https://k6.io/)')).toBe(
      'these scripts need k6 v1.0.0 or newer; this is k6 v0.52.0 (see "Load testing" in the README)',
    );
    expect(plan.k6VersionProblem('Grafana k6/0.59.0')).toContain('v0.59.0');
  });

  it('cannot tell from a User-Agent without a k6 version (a custom --user-agent), and lets it run', () => {
    for (const agent of ['loadtest-bot', '', undefined, null])
      expect(plan.k6VersionProblem(agent)).toBeNull();
  });
});

describe('the autocannon runner judges dropped requests and freshness as k6 does', () => {
  const kind = (name: string, planned: number, responses: number) => ({
    ...emptyKindStats(name),
    planned,
    responses,
  });
  const result = (
    kinds: ReturnType<typeof kind>[],
    freshnessMs: Record<string, number[]> = {},
  ): RunResult => {
    const freshness = emptyFreshnessStats();
    for (const [name, values] of Object.entries(freshnessMs)) {
      freshness.scenarios[name] = {
        ...emptyProbeStats(),
        windows: values.length + 1,
        seen: values.length,
        freshnessMs: values,
      };
    }
    return {
      test: 't',
      runner: 'autocannon',
      seconds: 1,
      generatorDelayMs: { p99: 0, max: 0 },
      kinds: Object.fromEntries(kinds.map((k) => [k.kind, k])),
      freshness,
    };
  };
  const judge = (thresholds: Record<string, string[]>, run: RunResult) =>
    evaluateThresholds(thresholds, run).map((t) => [t.metric, t.expression, t.value, t.passed]);

  it('counts requests short of the plan per kind: one sending more does not make up for another', () => {
    const run = result([kind('ingest', 100, 95), kind('batch', 10, 12), kind('marker', 0, 7)]);
    expect(judge({ dropped_iterations: ['count<=0', 'count<=5'] }, run)).toEqual([
      ['dropped_iterations', 'count<=0', 5, false],
      ['dropped_iterations', 'count<=5', 5, true],
    ]);
  });

  it('judges live_freshness and live_markers_seen of one probe scenario by its scenario tag', () => {
    const run = result([kind('ingest', 1, 1)], { base: [10, 20, 30], spike: [100, 900] });
    const judged = judge(
      {
        'live_freshness{scenario:base}': ['max<50'],
        'live_freshness{scenario:spike}': ['max<500'],
        live_freshness: ['min<=10'],
        'live_markers_seen{scenario:base}': ['rate>0.7'],
        'live_freshness{scenario:missing}': ['p(99)<1000'],
      },
      run,
    );
    expect(judged).toEqual([
      ['live_freshness{scenario:base}', 'max<50', 30, true],
      ['live_freshness{scenario:spike}', 'max<500', 900, false],
      ['live_freshness', 'min<=10', 10, true],
      ['live_markers_seen{scenario:base}', 'rate>0.7', 0.75, true],
      ['live_freshness{scenario:missing}', 'p(99)<1000', Number.NaN, false],
    ]);
  });

  it('refuses tags it does not measure by', () => {
    expect(() => checkThresholds({ 'live_freshness{kind:ingest}': ['p(99)<1'] })).toThrow(/no kind tag/);
    expect(() => checkThresholds({ 'http_req_duration{scenario:x}': ['p(99)<1'] })).toThrow(
      /no scenario tag/,
    );
    expect(() => checkThresholds({ dropped_iterations: ['rate<1'] })).toThrow(/cannot evaluate/);
  });
});

describe('the scenarios, run briefly by the fallback runner against a live service', () => {
  let service: TestService;
  let url: string;
  // A smaller population than the definition's, seeded by the same code: set-up stays short.
  const smallPopulation: LoadedDefinition = {
    ...loaded,
    definition: { ...definition, data: { ...definition.data, users: 2000, friendLists: 50 } },
  };

  beforeAll(async () => {
    service = await startTestService({ workers: true });
    url = await service.listen();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it.each(tests)('%s: every request kind sent and answered 2xx, every check passed', async (test) => {
    // About 1.5 s of load per scenario, at a quarter of the rates: this is about the requests and
    // answers, not about the figures.
    const seconds = plan.testSeconds(plan.testOf(definition, test));
    const outcome = await runWithAutocannon({
      test,
      target: { url, apiKey: TEST_KEYS.admin },
      scales: { duration: 1.5 / seconds, rate: 0.25 },
      loaded: smallPopulation,
      log: (line) => console.log(`${test}: ${line}`),
    });
    const { result } = outcome;
    console.log(`${test}: ${result.seconds.toFixed(2)} s of load`);
    const scenarios = Object.values(definition.tests[test]!.scenarios);
    const kinds = new Set(scenarios.flatMap((s) => Object.keys(s.mix ?? {})));
    if (scenarios.some((s) => s.exec === 'mark')) kinds.add('marker');
    expect(Object.keys(result.kinds).sort()).toEqual([...kinds].sort());
    for (const stats of Object.values(result.kinds)) {
      expect(requestCount(stats), stats.kind).toBeGreaterThan(0);
      const statuses = JSON.stringify(stats.statuses);
      expect({ kind: stats.kind, errors: stats.errors, non2xx: stats.non2xx }, statuses).toEqual({
        kind: stats.kind,
        errors: 0,
        non2xx: 0,
      });
      expect(stats.checks.failed, stats.kind).toEqual({});
      expect(stats.checks.passes, stats.kind).toBeGreaterThan(0);
    }
    if (scenarios.some((s) => s.exec === 'listen')) {
      const live = result.live!;
      const seen = JSON.stringify(live);
      expect(live.streams, seen).toBeGreaterThan(0);
      expect(live.ok, seen).toBe(live.streams);
      expect(live.errors, seen).toBe(0);
      expect(live.updates, seen).toBeGreaterThan(0);
    }
    const markScenarios = Object.entries(definition.tests[test]!.scenarios).filter(
      ([, s]) => s.exec === 'mark',
    );
    for (const [name] of markScenarios) {
      const probes = result.freshness!.scenarios[name]!;
      const seen = JSON.stringify({ ...probes, freshnessMs: undefined, deliveredMs: undefined });
      expect(probes.windows, seen).toBeGreaterThan(0);
      expect(probes.statuses, seen).toEqual({ 200: probes.windows });
      expect(probes.errors, seen).toBe(0);
      // Markers shown: sent before they showed, and shown here no earlier than the server stamped them.
      expect(probes.seen, seen).toBeGreaterThan(0);
      expect(
        probes.freshnessMs.every((ms) => ms >= 0),
        seen,
      ).toBe(true);
      expect(
        probes.deliveredMs.every((ms, i) => ms >= probes.freshnessMs[i]!),
        seen,
      ).toBe(true);
    }
    const failed = outcome.thresholds.filter((t) => t.metric.startsWith('http_req_failed') && !t.passed);
    expect(failed).toEqual([]);
  });
});
