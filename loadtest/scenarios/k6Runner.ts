/**
 * Runs a k6 script of loadtest/k6 with a k6 binary; k6 prints its own summary and judges the
 * thresholds. The binary is `K6_BINARY` when set (a path, e.g. /tmp/k6build/k6), else `k6` on the
 * PATH.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Scales } from './definition.js';
import type { Target } from './target.js';

/**
 * The k6 to run: `K6_BINARY`, else `k6` (looked up on the PATH).
 *
 * @example
 * spawnSync(k6Binary(), ['version']);
 */
export function k6Binary(env: NodeJS.ProcessEnv = process.env): string {
  return env.K6_BINARY || 'k6';
}

/**
 * Whether that k6 runs (`k6 version` exits 0).
 *
 * @example
 * const runner = k6Installed() ? 'k6' : 'autocannon';
 */
export function k6Installed(binary = k6Binary()): boolean {
  return spawnSync(binary, ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * `k6 run` with the target and scales as -e variables. Resolves with k6's exit code (99:
 * thresholds failed).
 *
 * @example
 * const code = await runWithK6(k6Dir(), 'freshness', { url, apiKey });
 */
export function runWithK6(
  dir: string,
  test: string,
  target: Target,
  scales: Scales = {},
  binary = k6Binary(),
): Promise<number> {
  const env: Record<string, string> = {
    BASE_URL: target.url,
    API_KEY: target.apiKey,
    DURATION_SCALE: String(scales.duration ?? 1),
    RATE_SCALE: String(scales.rate ?? 1),
  };
  if (target.readKey) env.READ_KEY = target.readKey;
  const args = ['run', ...Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`])];
  args.push(join(dir, `${test}.js`));
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
