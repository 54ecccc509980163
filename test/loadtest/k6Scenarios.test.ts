/**
 * The load scenarios: the k6 scripts load only what k6 provides and export what their options
 * name; and every scenario, run briefly by the autocannon fallback runner against a real service
 * (Redis, PGlite, workers), sends every request kind of its mix with no error, no non-2xx answer
 * and no failed check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadedDefinition, loadDefinition } from '../../loadtest/scenarios/definition.js';
import { runWithAutocannon } from '../../loadtest/scenarios/fallbackRunner.js';
import { requestCount } from '../../loadtest/scenarios/stats.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { exportedNames, isK6Module, k6ImportViolations, moduleUses } from './k6Modules.js';

const loaded: LoadedDefinition = await loadDefinition();
const { dir, definition, plan } = loaded;
const tests = Object.keys(definition.tests);
const scripts = readdirSync(dir).filter((f) => f.endsWith('.js'));
const read = (file: string) => readFileSync(join(dir, file), 'utf8');

interface K6Options {
  scenarios: Record<string, { exec: string; stages?: { duration: string; target: number }[] }>;
  thresholds: Record<string, unknown>;
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
    }
    expect(Object.keys(options.thresholds)).toContain('http_req_failed');
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
    const failed = outcome.thresholds.filter((t) => t.metric.startsWith('http_req_failed') && !t.passed);
    expect(failed).toEqual([]);
  });
});
