/** Runs a k6 script of loadtest/k6 when k6 is installed; k6 prints its own summary and judges the thresholds. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Scales } from './definition.js';
import type { Target } from './target.js';

export function k6Installed(): boolean {
  return spawnSync('k6', ['version'], { stdio: 'ignore' }).status === 0;
}

/** `k6 run` with the target and scales as -e variables. Resolves with k6's exit code (99: thresholds failed). */
export function runWithK6(dir: string, test: string, target: Target, scales: Scales = {}): Promise<number> {
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
    const child = spawn('k6', args, { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
