/**
 * `npm run bench`: runs the benchmark groups against a private `redis-server` (or `REDIS_URL`),
 * prints a table of medians with their ratios to baselines measured in the same run, and writes
 * `loadtest/results/latest.json`.
 *
 *   BENCH_ONLY=consumerGroups   run only the named groups (comma-separated); the results file
 *                               keeps the other groups' last results
 *   BENCH_QUICK=1               cut sizes down for a smoke test; results go to a temporary file
 *   BENCH_REPS=5                measured repetitions per group (default 5, quick 3)
 *   BENCH_OUT=path              where to write the results instead
 *   REDIS_URL=redis://...       measure that server instead of starting one (the `cluster` group
 *                               always starts Redis Clusters of its own)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { boards } from './benchmarks/boards.js';
import { cluster } from './benchmarks/cluster.js';
import { consumerGroups } from './benchmarks/consumerGroups.js';
import { edge } from './benchmarks/edge.js';
import { pipeline } from './benchmarks/pipeline.js';
import type { BenchContext, BenchmarkGroup } from './harness/benchmark.js';
import { openRedisTarget } from './harness/redisTarget.js';
import { formatTable, mergeResults, resultsDocument, writeResults } from './harness/report.js';
import { type GroupResult, runGroup } from './harness/runner.js';

/** Every benchmark group, in the order they run. A new group is one file and one line here. */
const GROUPS: readonly BenchmarkGroup[] = [consumerGroups, pipeline, edge, cluster, boards];

const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
const repetitions = Number(process.env.BENCH_REPS ?? (quick ? 3 : 5));
if (!Number.isInteger(repetitions) || repetitions < 1) {
  throw new Error(`BENCH_REPS must be a positive integer, got ${process.env.BENCH_REPS}`);
}
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only.filter((name) => !GROUPS.some((g) => g.name === name));
if (unknown.length > 0) {
  throw new Error(
    `BENCH_ONLY names unknown groups: ${unknown.join(', ')} (known: ${GROUPS.map((g) => g.name).join(', ')})`,
  );
}
const selected = only.length > 0 ? GROUPS.filter((g) => only.includes(g.name)) : GROUPS;
const outPath = resolve(
  process.env.BENCH_OUT ??
    (quick
      ? join(tmpdir(), 'leaderboard-bench-quick.json')
      : join(repoRoot(), 'loadtest/results/latest.json')),
);

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const target = await openRedisTarget();
log(`redis ${target.version} (${target.origin}) at ${target.url}`);
const redis = new Redis(target.url, { maxRetriesPerRequest: 3 });
const runId = randomBytes(3).toString('hex');
let sequence = 0;
const context: BenchContext = {
  redisUrl: target.url,
  redis,
  quick,
  uniquePrefix: (label) => `bench:${runId}:${label}${sequence++}`,
  log,
};
const loadBefore = loadavg();
const results: GroupResult[] = [];
try {
  for (const group of selected) {
    log(`${group.name}: ${group.description}`);
    results.push(await runGroup(group, context, { repetitions, warmup: true }));
  }
} finally {
  redis.disconnect();
  await target.stop();
}

const document = resultsDocument(
  {
    generatedAt: new Date().toISOString(),
    command: [
      only.length > 0 ? `BENCH_ONLY=${only.join(',')}` : '',
      quick ? 'BENCH_QUICK=1' : '',
      'npm run bench',
    ]
      .filter(Boolean)
      .join(' '),
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverageBefore: loadBefore.map((l) => Math.round(l * 100) / 100),
      loadAverageAfter: loadavg().map((l) => Math.round(l * 100) / 100),
      redis: `${target.version} (${target.origin})`,
    },
    settings: { quick, repetitions, groups: selected.map((g) => g.name) },
  },
  results,
);
// A run of some groups keeps the other groups' last results in the file.
const previous =
  only.length > 0 && existsSync(outPath) ? JSON.parse(readFileSync(outPath, 'utf8')) : undefined;
writeResults(
  outPath,
  previous
    ? mergeResults(
        previous,
        document,
        GROUPS.map((g) => g.name),
      )
    : document,
);
console.log(formatTable(results));
console.log(`\nresults written to ${outPath}`);

/** The repository root, found from this file in `loadtest/` or in `dist/loadtest/`. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in JSON.parse(readFileSync(manifest, 'utf8'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
