/**
 * The k6 scripts under a real k6, when one is installed (`K6_BINARY`, or `k6` on the PATH): `k6
 * inspect` reads each script's options as plan.js computes them, a tiny run of each against a
 * real service passes set-up and every check, and the version check stops a k6 reporting an old
 * version. Without k6 (CI has none) these tests are skipped, and reported as skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinition } from '../../loadtest/scenarios/definition.js';
import { k6Binary, k6Installed } from '../../loadtest/scenarios/k6Runner.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';

const { dir, definition, plan } = await loadDefinition();
const tests = Object.keys(definition.tests);
const binary = k6Binary();
const installed = k6Installed(binary);

interface Inspected {
  scenarios: Record<string, Record<string, unknown>>;
  thresholds: Record<string, unknown>;
  summaryTrendStats: string[];
}

/**
 * A scenario without the null fields k6 inspect prints for options not set, its durations in
 * milliseconds (k6 prints '10s' where plan.js wrote '10000ms').
 */
function comparable(scenario: Record<string, unknown>): Record<string, unknown> {
  const set = Object.fromEntries(Object.entries(scenario).filter(([, v]) => v !== null));
  return JSON.parse(JSON.stringify(set), (key, value) =>
    ['duration', 'startTime'].includes(key) ? plan.parseDuration(value) : value,
  );
}

interface Run {
  code: number | null;
  output: string;
}

/** `k6 run` of a script; resolves with its exit code and what it printed (stdout and stderr). */
function k6Run(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['run', '--quiet', '--no-color', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe.runIf(installed)(`the k6 scripts under a real k6 (${binary})`, () => {
  it.each(tests)('k6 inspect %s.js: the scenarios, thresholds and trend stats plan.js computes', (test) => {
    const inspected = spawnSync(binary, ['inspect', join(dir, `${test}.js`)], { encoding: 'utf8' });
    expect(inspected.status, inspected.stderr).toBe(0);
    const options = JSON.parse(inspected.stdout) as Inspected;
    const planned = plan.k6Options(definition, test) as unknown as Inspected;
    const scenarios = (all: Inspected['scenarios']) =>
      Object.fromEntries(Object.entries(all).map(([name, scenario]) => [name, comparable(scenario)]));
    expect(scenarios(options.scenarios)).toEqual(scenarios(planned.scenarios));
    expect(options.thresholds).toEqual(planned.thresholds);
    expect(options.summaryTrendStats).toEqual(planned.summaryTrendStats);
  });

  describe('against a live service', () => {
    let service: TestService;
    let url: string;
    let work: string;

    beforeAll(async () => {
      service = await startTestService({ workers: true });
      url = await service.listen();
      work = mkdtempSync(join(tmpdir(), 'k6-test-'));
    });

    afterAll(async () => {
      await service?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const target = () => ['-e', `BASE_URL=${url}`, '-e', `API_KEY=${TEST_KEYS.admin}`];

    it.each(
      tests,
    )('a tiny run of %s.js: set-up passes, every request kind is sent, every check passes', async (test) => {
      // About 1.5 s of load at a tenth of the rates: this is about the script, not the figures,
      // so k6 may judge thresholds crossed (exit code 99) but nothing else may go wrong.
      const seconds = plan.testSeconds(plan.testOf(definition, test));
      const summaryFile = join(work, `${test}.json`);
      const run = await k6Run([
        ...target(),
        '-e',
        `DURATION_SCALE=${1.5 / seconds}`,
        '-e',
        'RATE_SCALE=0.1',
        '--summary-export',
        summaryFile,
        join(dir, `${test}.js`),
      ]);
      expect([0, 99], run.output).toContain(run.code);
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as {
        metrics: Record<string, Record<string, number>>;
        root_group: { checks: Record<string, { passes: number; fails: number }> };
      };
      const checks = Object.entries(summary.root_group.checks);
      expect(checks.length).toBeGreaterThan(0);
      for (const [name, counts] of checks) {
        expect(counts.fails, name).toBe(0);
        expect(counts.passes, name).toBeGreaterThan(0);
      }
      for (const kind of plan.testKinds(plan.testOf(definition, test))) {
        expect(summary.metrics[`http_req_duration{kind:${kind}}`]?.max, kind).toBeGreaterThan(0);
      }
    });

    it('stops in setup(), naming the versions, when the k6 reports a version older than v1.0.0', async () => {
      const run = await k6Run([
        ...target(),
        '--user-agent',
        'k6/0.52.0 (https://k6.io/)',
        join(dir, 'steady-mixed.js'),
      ]);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain('these scripts need k6 v1.0.0 or newer; this is k6 v0.52.0');
    });
  });
});
