/**
 * Arrival-rate executors as a list of steps at a fixed rate, for a load generator that only knows
 * "N requests per second for T seconds" (autocannon's `overallRate`). A constant rate is one step.
 * A ramping-arrival-rate stage ramps linearly from the previous target to its own, as in k6; it
 * becomes one step per second of the stage, each at the rate of the ramp at its middle (a stage
 * that holds its rate stays one step).
 */
import type { Plan, ScenarioDefinition } from './definition.js';

export interface Step {
  seconds: number;
  /** Requests per second. */
  perSecond: number;
}

export function arrivalSteps(plan: Plan, scenario: ScenarioDefinition): Step[] {
  const unitSeconds = plan.parseDuration(scenario.timeUnit ?? '1s') / 1000;
  const perSecond = (rate: number) => rate / unitSeconds;
  if (scenario.executor === 'constant-arrival-rate') {
    return [{ seconds: plan.parseDuration(scenario.duration!) / 1000, perSecond: perSecond(scenario.rate!) }];
  }
  if (scenario.executor !== 'ramping-arrival-rate') {
    throw new Error(`${scenario.executor} is not an arrival-rate executor`);
  }
  const steps: Step[] = [];
  let from = scenario.startRate ?? 0;
  for (const stage of scenario.stages ?? []) {
    const seconds = plan.parseDuration(stage.duration) / 1000;
    const to = stage.target;
    const count = from === to ? 1 : Math.max(1, Math.round(seconds));
    for (let i = 0; i < count; i++) {
      const rate = from + ((to - from) * (i + 0.5)) / count;
      steps.push({ seconds: seconds / count, perSecond: perSecond(rate) });
    }
    from = to;
  }
  return steps;
}
