/**
 * Tests that need a program from Debian's packages (Chromium, promtool): found, they run; missing,
 * they are skipped with a message saying what to install, except with CI=true, where `.ci/run`
 * installs them and a missing one must fail the run instead of passing it unseen.
 */
import { accessSync, constants } from 'node:fs';
import { it } from 'vitest';

export interface SystemTool {
  /** Absolute path of the program. */
  path: string;
  /** The command that installs it on Debian. */
  install: string;
}

/** Why the tool cannot run here, or undefined when it is there and executable. */
export function missingTool(tool: SystemTool): string | undefined {
  try {
    accessSync(tool.path, constants.X_OK);
    return undefined;
  } catch {
    return `${tool.path} is not installed (${tool.install}; .ci/run installs it)`;
  }
}

/**
 * When the tool is missing, registers the test that says so (failing with CI=true, skipped
 * otherwise) and answers true: the caller then defines none of its tests.
 *
 * @example
 * if (!reportMissingTool(CHROMIUM)) describe('the dashboard in Chromium', () => { ... });
 */
export function reportMissingTool(tool: SystemTool): boolean {
  const missing = missingTool(tool);
  if (!missing) return false;
  if (process.env.CI === 'true') {
    it(`needs ${tool.path}`, () => {
      throw new Error(`${missing}: CI must run these tests`);
    });
  } else {
    console.warn(`skipping: ${missing}`);
    it.skip(`needs ${tool.path}: ${missing}`, () => {});
  }
  return true;
}
