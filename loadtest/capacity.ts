/**
 * `npm run capacity -- --events-per-sec 100000000 [--zipf 1.1] [--windows 4] [--users N] ...`:
 * prints the fleet a load needs (Redis masters and replicas, worker cores, edge cores, memory per
 * shard) from the costs in `loadtest/results/latest.json` (`BENCH_ONLY=cluster npm run bench`
 * measures them), with every assumption it made and what it came from (`loadtest/capacityModel.ts`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Assumptions,
  capacityFor,
  costsFrom,
  DEFAULT_ASSUMPTIONS,
  type Fleet,
  formatBytes,
  formatCount,
  type Load,
} from './capacityModel.js';

const USAGE = `usage: npm run capacity -- --events-per-sec N [options]

  --events-per-sec N       score events per second (required)
  --events-per-request N   events per ingest request (default 1: single-event requests)
  --users N                distinct users (default 10000000)
  --windows N              windows per board: 1 (all) to 4 (all/day/week/month) (default 1)
  --zipf S                 users' activity follows Zipf with exponent S (default: uniform)
  --rank-reads-per-sec N   GET /users/:id reads per second (default 0)
  --utilisation U          target share of each core (default ${DEFAULT_ASSUMPTIONS.targetUtilisation})
  --replicas-per-master N  (default ${DEFAULT_ASSUMPTIONS.replicasPerMaster})
  --retention-minutes N    how long streams keep events (default ${DEFAULT_ASSUMPTIONS.streamRetentionMinutes})
  --results PATH           the benchmark results (default loadtest/results/latest.json)
  --json                   print the fleet as JSON`;

/**
 * Parses the command line and computes the fleet; throws with the usage on bad input.
 *
 * @example
 * const { fleet } = capacityCommand(['--events-per-sec', '1e8', '--zipf', '1.1']);
 */
export function capacityCommand(argv: string[]): { fleet: Fleet; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      'events-per-sec': { type: 'string' },
      'events-per-request': { type: 'string' },
      users: { type: 'string' },
      windows: { type: 'string' },
      zipf: { type: 'string' },
      'rank-reads-per-sec': { type: 'string' },
      utilisation: { type: 'string' },
      'replicas-per-master': { type: 'string' },
      'retention-minutes': { type: 'string' },
      results: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const number = (name: string, raw: string | undefined, fallback?: number, min = 0): number => {
    if (raw === undefined) {
      if (fallback === undefined) throw new Error(`--${name} is required\n\n${USAGE}`);
      return fallback;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got '${raw}'`);
    return n;
  };
  const windows = number('windows', values.windows, 1, 1);
  if (!Number.isInteger(windows) || windows > 4) throw new Error('--windows must be 1, 2, 3 or 4');
  const load: Load = {
    eventsPerSec: number('events-per-sec', values['events-per-sec'], undefined, 1),
    eventsPerRequest: number('events-per-request', values['events-per-request'], 1, 1),
    users: number('users', values.users, 10_000_000, 1),
    windows,
    zipf: values.zipf === undefined ? undefined : number('zipf', values.zipf, undefined, 0.01),
    rankReadsPerSec: number('rank-reads-per-sec', values['rank-reads-per-sec'], 0),
  };
  const assumptions: Assumptions = {
    ...DEFAULT_ASSUMPTIONS,
    targetUtilisation: number('utilisation', values.utilisation, DEFAULT_ASSUMPTIONS.targetUtilisation, 0.01),
    replicasPerMaster: number(
      'replicas-per-master',
      values['replicas-per-master'],
      DEFAULT_ASSUMPTIONS.replicasPerMaster,
    ),
    streamRetentionMinutes: number(
      'retention-minutes',
      values['retention-minutes'],
      DEFAULT_ASSUMPTIONS.streamRetentionMinutes,
    ),
  };
  if (assumptions.targetUtilisation > 1) throw new Error('--utilisation must be at most 1');
  const path = values.results ?? 'loadtest/results/latest.json';
  const results = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return { fleet: capacityFor(costsFrom(results), load, assumptions), json: values.json ?? false };
}

/** The fleet as the table `npm run capacity` prints. */
export function formatFleet(fleet: Fleet): string {
  const rows: [string, string][] = [
    [
      'Redis masters',
      `${formatCount(fleet.masters)} (one core each; ${formatCount(fleet.eventsPerSecPerShard)} events/s per master)`,
    ],
    ['Redis replicas', formatCount(fleet.replicas)],
    [
      'Redis clusters',
      `${fleet.clusters} of ${formatCount(fleet.mastersPerCluster)} masters (one board: at most ${formatCount(fleet.boardMaxEventsPerSec)} events/s)`,
    ],
    ['partitions per cluster', `${fleet.partitions}`],
    ['worker cores', formatCount(fleet.workerCores)],
    ['edge cores', formatCount(fleet.edgeCores)],
    [
      'memory per shard',
      `${formatBytes(fleet.memoryPerShardBytes)} (score sets ${formatBytes(fleet.scoreSetBytesPerShard)}, streams ${formatBytes(fleet.streamBytesPerShard)}, with overhead)`,
    ],
    ['Redis CPU per event', `${fleet.redisUsPerEvent.toFixed(2)} µs`],
    [
      'hottest partition',
      `${formatCount(fleet.hottestPartitionEventsPerSec)} events/s (its most active user: ${(fleet.hottestUserShare * 100).toPrecision(3)} % of the events)`,
    ],
    [
      'one rank read',
      `${fleet.rankReadRedisUs.toFixed(0)} µs of Redis CPU at ${fleet.partitions} partitions`,
    ],
  ];
  return [
    '| what | fleet |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    'assumptions:',
    ...fleet.assumptions.map((a) => `  - ${a}`),
    ...(fleet.warnings.length > 0 ? ['', 'warnings:', ...fleet.warnings.map((w) => `  ! ${w}`)] : []),
  ].join('\n');
}

// Run as a program (not imported by the test).
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    const { fleet, json } = capacityCommand(process.argv.slice(2));
    console.log(json ? JSON.stringify(fleet, null, 2) : formatFleet(fleet));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
