/**
 * `leaderboard replay --board B [--window W]... [--from <entry id | ISO time>] [--partial]`:
 * rebuilds a board from the retained streams while the service keeps running (topology/replay).
 */
import { parseArgs } from 'node:util';
import { BoardRegistry, checkWindowName, ReplayError, replayBoard } from '../../leaderboard/index.js';
import { redisForCommand } from '../commandRedis.js';
import type { Config } from '../config.js';
import { ProgressBar, type ProgressFigures, type ProgressOutput } from '../progressBar.js';

export const REPLAY_USAGE = `usage: leaderboard replay --board <id> [--window <name>]... [--from <entry id | ISO time>]
                          [--partial] [--concurrency <n>]

Rebuilds the board's windows from the retained streams into shadow keys while the workers keep
applying new events, then swaps them in atomically, partition by partition.
  --window       only these windows (repeat, or comma-separated); default: all of the board's
  --from         replay from this stream entry id or time; default: the start of the retained streams
  --partial      also rebuild window instances that began before the first replayed entry (they would
                 hold only the replayed part of their events); default: leave them as they are
  --concurrency  partitions replayed at once (default 2)`;

export async function replayCommand(
  args: string[],
  config: Config,
  out: ProgressOutput & NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      board: { type: 'string' },
      window: { type: 'string', multiple: true },
      from: { type: 'string' },
      partial: { type: 'boolean' },
      concurrency: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    out.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  if (!values.board) throw new UsageError(`--board is required\n\n${REPLAY_USAGE}`);
  const windows = (values.window ?? [])
    .flatMap((w) => w.split(','))
    .filter((w) => w !== '')
    .map((w) => {
      const check = checkWindowName(w);
      if (!check.ok) throw new UsageError(`--window: ${check.message}`);
      return check.name;
    });
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new UsageError('--concurrency must be a positive integer');
  }

  const connection = await redisForCommand(config);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    out.write(`replaying board '${values.board}' on ${connection.source}\n`);
    const boards = new BoardRegistry(connection.redis, config.KEY_PREFIX);
    await boards.load();
    const bar = new ProgressBar(out, 'replay', 'events');
    let last: ProgressFigures | undefined;
    const result = await replayBoard({
      redis: connection.redis,
      boards,
      board: values.board,
      windows,
      from: values.from,
      partial: values.partial ?? false,
      name: config.KEY_PREFIX,
      partitions: config.PARTITIONS,
      concurrency,
      signal: abort.signal,
      onProgress: (p) => {
        last = { done: p.replayed, total: p.estimatedTotal, rate: p.eventsPerSecond, etaMs: p.etaMs };
        bar.update(last);
      },
    }).catch((error: unknown) => {
      bar.finish();
      throw error;
    });
    if (last) bar.update({ ...last, total: last.done }, true);
    const seconds = result.elapsedMs / 1000;
    out.write(
      `replayed ${result.replayed.toLocaleString('en-US')} entries in ${seconds.toFixed(1)} s ` +
        `(${Math.round(result.replayed / Math.max(seconds, 0.001)).toLocaleString('en-US')} entries/s); ` +
        `${result.updates.toLocaleString('en-US')} score updates of '${result.group}', ${result.duplicates} duplicates dropped\n`,
    );
    out.write(
      `swapped in: ${result.swapped.join(' ') || '(nothing: no events of this board were replayed)'}\n`,
    );
    if (result.skippedPartial.length > 0) {
      out.write(
        `left as they were (they began before the first replayed entry; --partial rebuilds them): ${result.skippedPartial.join(' ')}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof ReplayError) throw new UsageError(`replay failed: ${error.message}`);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    await connection.close();
  }
}

/** A mistake of the command line's user: printed as it is, without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
