/**
 * `leaderboard dlq list|redrive`: the dead letters of every partition, and re-driving them (as new
 * stream entries) once whatever made them fail is fixed, e.g. the board they name was created.
 */
import { parseArgs } from 'node:util';
import { type DeadLetter, scoreEventCodec, streamAdmin } from '../../leaderboard/index.js';
import { redisForCommand } from '../commandRedis.js';
import type { Config } from '../config.js';
import { UsageError } from './replay.js';

export const DLQ_USAGE = `usage: leaderboard dlq list [--partition <p>] [--limit <n per partition>] [--json]
       leaderboard dlq redrive [--partition <p>] [--id <dead letter id>]...

  list     the dead letters, oldest first per partition: id, original entry id, deliveries, reason
  redrive  appends dead letters to their partition's stream again as new entries and removes them
           from the dead-letter stream (all of them, or those of --partition, or the given --id)`;

export async function deadLettersCommand(
  args: string[],
  config: Config,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      partition: { type: 'string' },
      limit: { type: 'string' },
      id: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help || action === 'help') {
    out.write(`${DLQ_USAGE}\n`);
    return 0;
  }
  if (action !== 'list' && action !== 'redrive')
    throw new UsageError(`dlq needs list or redrive\n\n${DLQ_USAGE}`);
  const partitions = selectPartitions(values.partition, config.PARTITIONS);
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');

  const connection = await redisForCommand(config);
  try {
    const admin = streamAdmin(connection.redis, { name: config.KEY_PREFIX, partitions: config.PARTITIONS });
    if (action === 'list') {
      const letters: DeadLetter[] = [];
      for (const p of partitions) letters.push(...(await admin.deadLetters(p, { count: limit })));
      out.write(values.json ? `${JSON.stringify(letters, null, 2)}\n` : table(letters));
      return 0;
    }
    let redriven = 0;
    if (values.id) {
      // A dead letter's id is an id of its partition's dead-letter stream: two partitions can hold
      // the same one. Each id is re-driven only where it is, and one in several is refused.
      const holders = await partitionsHolding(admin, partitions, values.id);
      const ambiguous = [...holders].filter(([, ps]) => ps.length > 1);
      if (ambiguous.length > 0) {
        const which = ambiguous.map(([id, ps]) => `${id} (partitions ${ps.join(', ')})`).join(', ');
        throw new UsageError(`dead letter ids in more than one partition: ${which}; give --partition`);
      }
      for (const p of partitions) {
        const ids = values.id.filter((id) => holders.get(id)?.[0] === p);
        if (ids.length > 0) redriven += await admin.redrive(p, ids);
      }
    } else {
      for (const p of partitions) redriven += await admin.redrive(p);
    }
    out.write(`re-drove ${redriven} dead letter${redriven === 1 ? '' : 's'}\n`);
    if (values.id && redriven < values.id.length) {
      out.write(`${values.id.length - redriven} of the given ids were not found\n`);
      return 1;
    }
    return 0;
  } finally {
    await connection.close();
  }
}

/** The partitions whose dead-letter stream holds each id. */
async function partitionsHolding(
  admin: ReturnType<typeof streamAdmin>,
  partitions: readonly number[],
  ids: readonly string[],
): Promise<Map<string, number[]>> {
  const holders = new Map<string, number[]>();
  await Promise.all(
    partitions.flatMap((p) =>
      [...new Set(ids)].map(async (id) => {
        const [letter] = await admin.deadLetters(p, { from: id, count: 1 });
        if (letter?.id === id)
          holders.set(
            id,
            [...(holders.get(id) ?? []), p].sort((a, b) => a - b),
          );
      }),
    ),
  );
  return holders;
}

function selectPartitions(partition: string | undefined, count: number): number[] {
  if (partition === undefined) return Array.from({ length: count }, (_, p) => p);
  const p = Number(partition);
  if (!Number.isInteger(p) || p < 0 || p >= count) {
    throw new UsageError(`--partition must be an integer from 0 to ${count - 1}`);
  }
  return [p];
}

function table(letters: DeadLetter[]): string {
  if (letters.length === 0) return 'no dead letters\n';
  const rows = letters.map((l) => [
    String(l.partition),
    l.id,
    l.originId,
    String(l.deliveries),
    eventOf(l.fields),
    l.reason,
  ]);
  const header = ['partition', 'id', 'entry', 'deliveries', 'board/user', 'reason'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n${letters.length} dead letter${letters.length === 1 ? '' : 's'}\n`;
}

/** The board, user and value of a dead letter's entry, in either stream layout, as far as they can be read. */
function eventOf(fields: Record<string, string>): string {
  const decoded = scoreEventCodec.decode(fields);
  if (decoded.ok) return `${decoded.value.board}/${decoded.value.userId} v=${decoded.value.value}`;
  const [b, u, v] = fields.s === undefined ? [fields.b, fields.u, fields.v] : fields.s.split('\u001f');
  return `${b ?? '?'}/${u ?? '?'} v=${v ?? '?'}`;
}
