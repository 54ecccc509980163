// Runs before `npm start` and `npm test` (the `prestart` and `pretest` scripts): installs the
// locked dependencies with `npm ci` when `node_modules` does not hold what `package-lock.json`
// says, so that a fresh clone needs no other command. It compares the lockfile with npm's own
// record of the installed tree, `node_modules/.package-lock.json` (written by every `npm ci` and
// `npm install`, by hand or from here), so it is a no-op of a few milliseconds once they agree.
// It imports nothing outside Node: it runs before anything is installed.
//
// With CI=true it installs only when `node_modules` is missing: CI has run `npm ci` itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIELDS = ['version', 'resolved', 'integrity', 'link'];

/**
 * Why `node_modules` differs from the lockfile, or undefined when it does not.
 *
 * @example
 * staleReason('/repo'); // 'node_modules is missing' on a fresh clone
 */
export function staleReason(dir) {
  const lockPath = join(dir, 'package-lock.json');
  const installedPath = join(dir, 'node_modules', '.package-lock.json');
  if (!existsSync(join(dir, 'node_modules'))) return 'node_modules is missing';
  if (!existsSync(installedPath)) return 'node_modules has no record of what npm installed';
  const locked = JSON.parse(readFileSync(lockPath, 'utf8')).packages ?? {};
  const installed = JSON.parse(readFileSync(installedPath, 'utf8')).packages ?? {};
  for (const [path, entry] of Object.entries(locked)) {
    // The root is not installed; optional packages of other platforms are skipped by npm.
    if (path === '' || installed[path] || entry.optional) continue;
    return `${path} is not installed`;
  }
  for (const [path, entry] of Object.entries(installed)) {
    const want = locked[path];
    if (!want) return `${path} is installed but not in package-lock.json`;
    const field = FIELDS.find((f) => want[f] !== entry[f]);
    if (field) return `${path}: ${field} ${entry[field]} installed, ${want[field]} locked`;
    if (!existsSync(join(dir, path))) return `${path} is missing from node_modules`;
  }
  return undefined;
}

function main() {
  const reason = staleReason(root);
  if (!reason) return 0;
  if (process.env.CI === 'true' && reason !== 'node_modules is missing') {
    console.warn(`ensure-deps: ${reason}; CI=true, so leaving node_modules as CI's npm ci made it`);
    return 0;
  }
  console.log(`ensure-deps: ${reason}; running npm ci`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`ensure-deps: could not run npm ci: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main());
