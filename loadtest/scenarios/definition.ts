/**
 * The scenario definition for the Node runner: `loadtest/k6/scenarios.json` read with fs, and
 * `loadtest/k6/plan.js` (the same pure module the k6 scripts import) loaded from the source tree,
 * so both runners send the same requests with the same numbers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as PlanModule from '../k6/plan.js';

export type Plan = typeof PlanModule;
export type {
  Definition,
  PlannedRequest,
  RequestKind,
  Scales,
  ScenarioDefinition,
  TestDefinition,
  Threshold,
} from '../k6/plan.js';

export interface LoadedDefinition {
  /** The folder of the k6 scripts, scenarios.json and plan.js. */
  dir: string;
  definition: PlanModule.Definition;
  plan: Plan;
}

/**
 * `loadtest/k6/` from this module: `loadtest/scenarios/` in the sources (tsx, vitest),
 * `dist/loadtest/scenarios/` once built (the k6 folder is not compiled, it stays in the sources).
 */
export function k6Dir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'k6'), join(here, '..', '..', '..', 'loadtest', 'k6')];
  const found = candidates.find((dir) => existsSync(join(dir, 'scenarios.json')));
  if (!found) throw new Error(`loadtest/k6/scenarios.json not found (looked in ${candidates.join(', ')})`);
  return found;
}

export async function loadDefinition(dir = k6Dir()): Promise<LoadedDefinition> {
  const definition = JSON.parse(readFileSync(join(dir, 'scenarios.json'), 'utf8')) as PlanModule.Definition;
  const plan = (await import(pathToFileURL(join(dir, 'plan.js')).href)) as Plan;
  return { dir, definition, plan };
}
