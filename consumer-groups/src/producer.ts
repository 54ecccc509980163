/**
 * Appends entries to a partitioned stream family: one pipeline per partition per call, all sent
 * at once, with time-based retention (`XADD ... MINID ~`) so the recent past stays replayable.
 */
import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError } from './errors/InvalidOptionError.js';
import { partitionKeys } from './keys.js';
import { partitionFor } from './partitioner.js';

export interface ProducerOptions {
  /** The stream family's name; partition p's stream is `{name:p}:in`. */
  name: string;
  /** Number of partitions. */
  partitions: number;
  /** How long entries are kept, ms. Default 7 days. Trimming is approximate (`MINID ~`). */
  retentionMs?: number;
}

export type FieldValue = string | number;

export interface ProducerRecord {
  /** Partitioning key (e.g. a user id); ignored when `partition` is given. */
  key?: string;
  partition?: number;
  /** Field/value pairs, as an object or already flat (`[f1, v1, f2, v2]`, the fastest). */
  fields: Record<string, FieldValue> | FieldValue[];
}

export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * @example
 * const producer = new Producer(redis, { name: 'lb', partitions: 16 });
 * const ids = await producer.append([{ key: 'user-1', fields: { b: 'global', v: '10' } }]);
 */
export class Producer {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  private readonly streamKeys: string[];

  constructor(
    private readonly redis: Redis | Cluster,
    options: ProducerOptions,
  ) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new InvalidOptionError('partitions', 'a positive integer', options.partitions);
    }
    // Braces would break the `{name:p}` hash tags that keep a partition's keys in one slot.
    if (!/^[^{}\s]+$/.test(options.name)) {
      throw new InvalidOptionError('name', 'a non-empty string without braces or spaces', options.name);
    }
    if (
      options.retentionMs !== undefined &&
      !(Number.isFinite(options.retentionMs) && options.retentionMs > 0)
    ) {
      throw new InvalidOptionError('retentionMs', 'a positive number of milliseconds', options.retentionMs);
    }
    this.name = options.name;
    this.partitions = options.partitions;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.streamKeys = Array.from({ length: this.partitions }, (_, p) => partitionKeys(this.name, p).stream);
  }

  /** The partition a key belongs to. */
  partitionOf(key: string): number {
    return partitionFor(key, this.partitions);
  }

  /**
   * Appends records and resolves with their entry ids, in the order given, once Redis has
   * accepted every one of them. Rejects if any partition's append failed: the caller must then
   * treat the whole call as not accepted (entries of other partitions may have been written; an
   * idempotency id in the fields lets the retry be counted once).
   */
  async append(records: readonly ProducerRecord[]): Promise<string[]> {
    const byPartition = new Map<number, number[]>();
    for (let i = 0; i < records.length; i++) {
      const p = this.resolvePartition(records[i]!);
      const list = byPartition.get(p);
      if (list) list.push(i);
      else byPartition.set(p, [i]);
    }
    const minId = String(Math.max(0, Date.now() - this.retentionMs));
    const ids = new Array<string>(records.length);
    await Promise.all(
      [...byPartition].map(async ([p, indexes]) => {
        const pipeline = this.redis.pipeline();
        const key = this.streamKeys[p]!;
        for (const i of indexes) {
          pipeline.xadd(key, 'MINID', '~', minId, '*', ...flatten(records[i]!.fields));
        }
        const results = (await pipeline.exec()) ?? [];
        results.forEach(([error, id], j) => {
          if (error) throw error;
          ids[indexes[j]!] = id as string;
        });
      }),
    );
    return ids;
  }

  private resolvePartition(record: ProducerRecord): number {
    if (record.partition !== undefined) {
      if (
        !Number.isInteger(record.partition) ||
        record.partition < 0 ||
        record.partition >= this.partitions
      ) {
        throw new InvalidOptionError('partition', `an integer in [0, ${this.partitions})`, record.partition);
      }
      return record.partition;
    }
    if (record.key === undefined)
      throw new InvalidOptionError('key', 'a string when no partition is given', undefined);
    return partitionFor(record.key, this.partitions);
  }
}

function flatten(fields: ProducerRecord['fields']): FieldValue[] {
  if (Array.isArray(fields)) return fields;
  const flat: FieldValue[] = [];
  for (const name in fields) flat.push(name, fields[name]!);
  return flat;
}
