/**
 * `leaderboard verify [--board B] [--window W] [--json]`: compares every top-K snapshot with a
 * fresh merge of the partitions, and each listed user's rank and score with a fresh read; prints
 * the differences and exits 1 when there are any (topology/verify).
 */
import { parseArgs } from 'node:util';
import { BoardRegistry, checkWindowName, verifyBoards } from '../../leaderboard/index.js';
import { redisForCommand } from '../commandRedis.js';
import type { Config } from '../config.js';
import { UsageError } from './replay.js';

export const VERIFY_USAGE = `usage: leaderboard verify [--board <id>] [--window <name>] [--settle-ms <ms>] [--json]

Compares each top-K snapshot (every window instance that has one, and the current instance of
each window) with a fresh merge of the partitions, and every listed user's rank and score with a
fresh read. Run it once the streams are drained (after an incident or a replay); on a running
service a top that differs is read again after --settle-ms (default 500), three times, before it
is reported. Exit status 1 when any top differs.`;

export async function verifyCommand(
  args: string[],
  config: Config,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      board: { type: 'string' },
      window: { type: 'string' },
      'settle-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    out.write(`${VERIFY_USAGE}\n`);
    return 0;
  }
  let window: string | undefined;
  if (values.window !== undefined) {
    const check = checkWindowName(values.window);
    if (!check.ok) throw new UsageError(`--window: ${check.message}`);
    window = check.name;
  }
  const settleMs = values['settle-ms'] === undefined ? undefined : Number(values['settle-ms']);
  if (settleMs !== undefined && !(Number.isInteger(settleMs) && settleMs >= 0)) {
    throw new UsageError('--settle-ms must be a non-negative integer');
  }

  const connection = await redisForCommand(config);
  try {
    const boards = new BoardRegistry(connection.redis, config.KEY_PREFIX);
    await boards.load();
    if (values.board !== undefined && !boards.get(values.board))
      throw new UsageError(`there is no board '${values.board}'`);
    const report = await verifyBoards({
      redis: connection.redis,
      boards,
      board: values.board,
      window,
      name: config.KEY_PREFIX,
      partitions: config.PARTITIONS,
      settleMs,
    });
    if (values.json) {
      out.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const d of report.differences) {
        const at = d.window === 'all' ? 'all' : `${d.window} from ${new Date(d.windowStart).toISOString()}`;
        out.write(`DIFFERS ${d.group} ${at}: ${d.detail}\n`);
      }
      out.write(
        `${report.compared} top${report.compared === 1 ? '' : 's'} compared, ` +
          `${report.differences.length} differ${report.differences.length === 1 ? 's' : ''}\n`,
      );
    }
    return report.differences.length > 0 ? 1 : 0;
  } finally {
    await connection.close();
  }
}
