/**
 * `leaderboard cluster plan [--watch-ms N] [--json]`: where the partitions live on the configured
 * Redis Cluster: per master, its partitions, keys, memory, replicas and the redirections it answered.
 */
import { parseArgs } from 'node:util';
import { clusterPlan } from '../../leaderboard/index.js';
import { redisForCommand } from '../commandRedis.js';
import type { Config } from '../config.js';
import { UsageError } from './replay.js';

export const CLUSTER_USAGE = `usage: leaderboard cluster plan [--watch-ms <ms>] [--json]

Shows, for each master of the Redis Cluster (REDIS_CLUSTER), the partitions it serves, its keys,
memory and replicas, and the MOVED/ASK redirections it has answered (since it started, and during
--watch-ms, default 2000). Partitions are placed so that they spread evenly over equal masters.`;

export async function clusterCommand(
  args: string[],
  config: Config,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { 'watch-ms': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help || action === 'help') {
    out.write(`${CLUSTER_USAGE}\n`);
    return 0;
  }
  if (action !== 'plan') throw new UsageError(`cluster needs plan\n\n${CLUSTER_USAGE}`);
  const watchMs = values['watch-ms'] === undefined ? 2000 : Number(values['watch-ms']);
  if (!Number.isInteger(watchMs) || watchMs < 0)
    throw new UsageError('--watch-ms must be a non-negative integer');
  const connection = await redisForCommand(config);
  try {
    const plan = await clusterPlan(connection.redis, {
      name: config.KEY_PREFIX,
      partitions: config.PARTITIONS,
      watchMs,
    });
    if (values.json) {
      out.write(`${JSON.stringify(plan, null, 2)}\n`);
      return 0;
    }
    out.write(
      `${config.PARTITIONS} partitions on ${connection.source}${plan.cluster ? '' : ' (not a cluster)'}\n`,
    );
    for (const m of plan.masters) {
      const watched =
        m.movedDuringWatch === undefined
          ? ''
          : `, ${m.movedDuringWatch} MOVED and ${m.askDuringWatch} ASK in ${watchMs} ms`;
      out.write(
        `${m.master}: ${m.partitions.length} partitions [${m.partitions.join(' ')}], ${m.keys} keys, ` +
          `${(m.usedMemoryBytes / 1048576).toFixed(1)} MiB, replicas ${m.replicas.join(' ') || 'none'}; ` +
          `redirections ${m.moved} MOVED, ${m.ask} ASK since start${watched}\n`,
      );
    }
    return 0;
  } finally {
    await connection.close();
  }
}
