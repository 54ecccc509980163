/**
 * Appends entries to a partitioned stream family: one script call per partition per call
 * (`appendEntries-1.lua`: the partition's entries in one command instead of one `XADD` each), all
 * sent at once, with time-based retention (`MINID ~`) so the recent past stays replayable.
 */
import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster.js';
import { InvalidOptionError } from './errors/InvalidOptionError.js';
import { partitionKeys } from './keys.js';
import { partitionFor } from './partitioner.js';
import { sendFollowingRedirections } from './redirections.js';
import { ReplicaWait, type ReplicaWaitOptions } from './replicaWait.js';
import { defineConsumerGroupScripts } from './scripts.js';

export interface ProducerOptions {
  /** The stream family's name; partition p's stream is `{name:p.s}:in`. */
  name: string;
  /** Number of partitions. */
  partitions: number;
  /** How long entries are kept, ms. Default 7 days. Trimming is approximate (`MINID ~`). */
  retentionMs?: number;
  /**
   * Resolve an append only once this many replicas hold it (`WAIT`), else reject with
   * `ReplicationTimeoutError`. Default: once the primary holds it.
   */
  replicas?: ReplicaWaitOptions;
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
 * Most entries one script call appends: a 10,000-entry partition goes as ten calls, so no call
 * holds Redis for long (each call is atomic, and Redis runs nothing else meanwhile).
 */
export const MAX_ENTRIES_PER_CALL = 1000;

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
  private readonly replicated: ReplicaWait | undefined;
  /** The client when it is a Cluster: its redirections are followed here (see `redirections.ts`). */
  private readonly cluster: Cluster | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    options: ProducerOptions,
  ) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new InvalidOptionError('partitions', 'a positive integer', options.partitions);
    }
    // Braces would break the `{name:p.s}` hash tags that keep a partition's keys in one slot.
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
    this.replicated = options.replicas ? new ReplicaWait(redis, options.replicas) : undefined;
    this.cluster = isCluster(redis) ? redis : undefined;
    defineConsumerGroupScripts(redis, ['appendEntries']);
  }

  /** The partition a key belongs to. */
  partitionOf(key: string): number {
    return partitionFor(key, this.partitions);
  }

  /**
   * Appends records and resolves with their entry ids, in the order given, once Redis has
   * accepted every one of them. Rejects if any partition's append failed: the caller must then
   * treat the whole call as not accepted (entries of other partitions may have been written; an
   * idempotency id in the fields lets the retry be counted once). A partition's entries (up to
   * {@link MAX_ENTRIES_PER_CALL}) are appended atomically, in the order given.
   */
  async append(records: readonly ProducerRecord[]): Promise<string[]> {
    if (records.length === 1) return [await this.appendOne(records[0]!)];
    const ids = new Array<string>(records.length);
    await this.appendByPartition(records, ids);
    return ids;
  }

  /**
   * As {@link Producer.append}, resolving with the number of records appended instead of their
   * ids (Redis then answers each partition's call with a count, not a list of ids).
   *
   * @example
   * await producer.appendAll(events.map((e) => ({ key: e.user, fields: ['v', e.value] })));
   */
  async appendAll(records: readonly ProducerRecord[]): Promise<number> {
    if (records.length === 1) await this.appendOne(records[0]!);
    else await this.appendByPartition(records);
    return records.length;
  }

  /**
   * Appends one record and resolves with its entry id once Redis has accepted it: one `XADD`
   * without a pipeline, a partition map or a `Promise.all` (the single-event ingest's path).
   *
   * @example
   * const id = await producer.appendOne({ key: 'user-1', fields: ['b', 'global', 'v', '10'] });
   */
  appendOne(record: ProducerRecord): Promise<string> {
    // Not async: the single-event ingest's path hands on ioredis's promise as it is.
    let key: string;
    try {
      key = this.streamKeys[this.resolvePartition(record)]!;
    } catch (error) {
      return Promise.reject(error);
    }
    const minId = String(Math.max(0, Date.now() - this.retentionMs));
    const fields = flatten(record.fields);
    const send = () => this.redis.xadd(key, 'MINID', '~', minId, '*', ...fields) as Promise<string>;
    const appended = this.cluster ? sendFollowingRedirections(this.cluster, send) : send();
    const replicated = this.replicated;
    if (!replicated) return appended;
    return appended.then((id) => replicated.after(key).then(() => id));
  }

  /** One `appendEntries` call per partition (per {@link MAX_ENTRIES_PER_CALL} entries), all at once. */
  private async appendByPartition(records: readonly ProducerRecord[], ids?: string[]): Promise<void> {
    const byPartition: (number[] | undefined)[] = new Array(this.partitions);
    for (let i = 0; i < records.length; i++) {
      const p = this.resolvePartition(records[i]!);
      const list = byPartition[p];
      if (list) list.push(i);
      else byPartition[p] = [i];
    }
    const minId = String(Math.max(0, Date.now() - this.retentionMs));
    const calls: Promise<void>[] = [];
    for (let p = 0; p < this.partitions; p++) {
      const indexes = byPartition[p];
      if (!indexes) continue;
      for (let start = 0; start < indexes.length; start += MAX_ENTRIES_PER_CALL) {
        const end = Math.min(indexes.length, start + MAX_ENTRIES_PER_CALL);
        const entries: string[][] = new Array(end - start);
        for (let k = start; k < end; k++)
          entries[k - start] = asStrings(flatten(records[indexes[k]!]!.fields));
        const stream = this.streamKeys[p]!;
        const json = entriesJson(entries);
        const send = () => this.redis.appendEntries(stream, minId, ids ? '1' : '0', json);
        const call = this.cluster ? sendFollowingRedirections(this.cluster, send) : send();
        calls.push(
          call.then(async (reply) => {
            await this.replicated?.after(stream);
            if (!ids) return;
            const appended = reply as string[];
            for (let k = start; k < end; k++) ids[indexes[k]!] = appended[k - start]!;
          }),
        );
      }
    }
    await Promise.all(calls);
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

/**
 * Field values as strings, as ioredis would send them (`String(n)`): Lua would print a JSON number
 * its own way (0.1 as 0.10000000000000001). Returns the same array when they already are.
 */
function asStrings(fields: FieldValue[]): string[] {
  for (let i = 0; i < fields.length; i++) {
    if (typeof fields[i] !== 'string') return fields.map(String);
  }
  return fields as string[];
}

const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/**
 * The entries as the script's JSON argument. `JSON.stringify` writes a lone UTF-16 surrogate as an
 * escape (`\udXXX`), which Lua's cjson refuses and UTF-8 cannot carry: such strings are sent with
 * U+FFFD instead, which is what a plain `XADD` through ioredis stores. (A literal backslash before
 * `ud` also matches the quick test; it then takes the slower, equally correct path.)
 */
function entriesJson(entries: string[][]): string {
  const json = JSON.stringify(entries);
  if (!json.includes('\\ud')) return json;
  return JSON.stringify(entries.map((fields) => fields.map((f) => f.replace(LONE_SURROGATES, '\uFFFD'))));
}

function flatten(fields: ProducerRecord['fields']): FieldValue[] {
  if (Array.isArray(fields)) return fields;
  const flat: FieldValue[] = [];
  for (const name in fields) flat.push(name, fields[name]!);
  return flat;
}
