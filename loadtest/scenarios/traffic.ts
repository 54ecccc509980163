/**
 * A traffic scenario (an arrival-rate executor and a request mix) driven by autocannon, whose rate
 * is a quota per connection and second, sent at the start of each second. So that the load is not
 * one burst a second, each step of the arrival rate runs, for each request kind, as SLOTS
 * instances started 1/SLOTS s apart, each with its share of the kind's rate and of the scenario's
 * preAllocatedVUs as connections. A slot sends one quota per second while its second starts within
 * the step, then stops just before its next quota; steps follow a fixed timeline, so a slow answer
 * never delays the next step. Where k6 would add VUs (up to maxVUs) because answers are slow, a
 * connection here sends its quota late or not at all: the summary shows requests short of the
 * plan. Every request is built by plan.js (as in k6) and every answer goes through the kind's
 * checks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { arrivalSteps } from './arrival.js';
import type { LoadedDefinition, RequestKind, ScenarioDefinition } from './definition.js';
import { countStatus, type KindStats, recordCheck } from './stats.js';
import { requestHeaders, type Target } from './target.js';

const SLOTS = 10;
/** A slot stops this long before its next quota would go out (it stops on a sampling tick). */
const STOP_MARGIN_SECONDS = 0.05;
const SAMPLE_MS = 20;
/** Seconds an answer may take before autocannon counts the request as timed out. */
const TIMEOUT_SECONDS = 10;

export async function runTraffic(
  loaded: LoadedDefinition,
  target: Target,
  scenario: ScenarioDefinition,
  stats: (kind: RequestKind) => KindStats,
): Promise<void> {
  const mix = Object.entries(scenario.mix ?? {}) as [RequestKind, number][];
  const totalWeight = mix.reduce((sum, [, weight]) => sum + weight, 0);
  const vus = scenario.preAllocatedVUs ?? scenario.maxVUs ?? 1;
  const started = performance.now();
  const runs: Promise<void>[] = [];
  let stepStart = 0;
  for (const step of arrivalSteps(loaded.plan, scenario)) {
    for (const [kind, weight] of mix) {
      const share = weight / totalWeight;
      const perSecond = step.perSecond * share;
      stats(kind).planned += perSecond * step.seconds;
      const rate = Math.max(1, Math.round(perSecond));
      const slots = Math.min(SLOTS, rate);
      for (let slot = 0; slot < slots; slot++) {
        const offset = slot / slots;
        // Quotas at offset, offset + 1, ... while they start within the step.
        const quotas = Math.ceil(step.seconds - offset - 1e-9);
        if (quotas < 1) continue;
        const slotRate = part(rate, slots, slot);
        const connections = Math.max(1, Math.min(Math.round((vus * share) / slots), slotRate));
        const at = (stepStart + offset) * 1000;
        runs.push(
          sleep(Math.max(0, started + at - performance.now())).then(() =>
            cannon(loaded, target, kind, stats(kind), {
              connections,
              overallRate: slotRate,
              duration: quotas - STOP_MARGIN_SECONDS,
            }),
          ),
        );
      }
    }
    stepStart += step.seconds;
  }
  await Promise.all(runs);
}

/** The slot-th of `parts` near-equal integer parts of `total`. */
function part(total: number, parts: number, slot: number): number {
  return Math.floor(total / parts) + (slot < total % parts ? 1 : 0);
}

type Pace = Pick<autocannon.Options, 'connections' | 'overallRate' | 'duration'>;

function cannon(
  loaded: LoadedDefinition,
  target: Target,
  kind: RequestKind,
  stats: KindStats,
  pace: Pace,
): Promise<void> {
  const { plan, definition } = loaded;
  const first = plan.buildRequest(kind, definition, Math.random);
  const checks = Object.entries(plan.checksFor(kind, definition));
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        ...pace,
        timeout: TIMEOUT_SECONDS,
        // autocannon stops on its sampling tick: keep it close to the slot's end.
        sampleInt: SAMPLE_MS,
        // autocannon's correction assumes one request per 1/rate ms of each connection, which
        // is not how a per-second quota sends them; latencies are kept as measured.
        ignoreCoordinatedOmission: true,
        requests: [
          {
            method: first.method,
            path: first.path,
            headers: requestHeaders(target, first.key, first.body !== null),
            setupRequest: (request) => {
              const next = plan.buildRequest(kind, definition, Math.random);
              return { ...request, method: next.method, path: next.path, body: next.body ?? undefined };
            },
            onResponse: (status, body) => {
              let parsed: unknown = null;
              try {
                parsed = JSON.parse(body);
              } catch {
                parsed = null;
              }
              for (const [name, check] of checks) recordCheck(stats.checks, name, check(status, parsed));
            },
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        stats.errors += result.errors;
        resolve();
      },
    );
    instance.on('response', (_client, status, _bytes, latencyMs) => {
      stats.responses++;
      countStatus(stats.statuses, status);
      if (status < 200 || status >= 300) stats.non2xx++;
      stats.latencies.push(latencyMs);
    });
  });
}
