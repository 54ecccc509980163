/**
 * Appends a pipeline's input records to its partitioned streams: each record encoded with the
 * pipeline's codec, in the partition of its key, one round trip per partition per call.
 */
import type { Cluster, Redis } from 'ioredis';
import { Producer, type ReplicaWaitOptions } from 'redis-streams-consumer-groups';
import type { Codec } from '../operators/codec.js';
import type { Topology } from './topology.js';

/** What a producer needs of a pipeline: where its input goes and how it is laid out. */
export interface StreamInput<T> {
  stream: string;
  codec: Codec<T>;
  partitionKey: (value: T) => string;
}

export interface PipelineProducerOptions {
  partitions: number;
  /** The stream family's name. Default: the topology's stream. */
  name?: string;
  /** How long entries are kept for replay, ms. Default 7 days. */
  retentionMs?: number;
  /** Resolve appends only once replicas hold them (`WAIT`); see consumer-groups' `ReplicaWait`. */
  replicas?: ReplicaWaitOptions;
}

/**
 * @example
 * const orders = new PipelineProducer(trending, redis, { partitions: 16 });
 * await orders.append([{ productId: 'p1', category: 'books', price: 12, qty: 1, at: Date.now() }]);
 */
export class PipelineProducer<T> {
  readonly partitions: number;
  private readonly producer: Producer;
  private readonly input: StreamInput<T>;

  /** @param input The pipeline (or just its input's stream, codec and partitioning key). */
  constructor(input: Topology<T> | StreamInput<T>, redis: Redis | Cluster, options: PipelineProducerOptions) {
    this.input = 'definition' in input ? input.definition : input;
    this.partitions = options.partitions;
    this.producer = new Producer(redis, {
      name: options.name ?? this.input.stream,
      partitions: options.partitions,
      retentionMs: options.retentionMs,
      replicas: options.replicas,
    });
  }

  /** The partition a record goes to. */
  partitionOf(value: T): number {
    return this.producer.partitionOf(this.input.partitionKey(value));
  }

  /** The partition of a partitioning key. */
  partitionOfKey(key: string): number {
    return this.producer.partitionOf(key);
  }

  /** Appends one record; resolves with its entry id once Redis has accepted it. */
  appendOne(value: T): Promise<string> {
    const { codec, partitionKey } = this.input;
    return this.producer.appendOne({ key: partitionKey(value), fields: codec.encode(value) });
  }

  /** Appends records; resolves once Redis has accepted every one (a partition's records in order). */
  async append(values: readonly T[]): Promise<void> {
    const { codec, partitionKey } = this.input;
    await this.producer.appendAll(
      values.map((value) => ({ key: partitionKey(value), fields: codec.encode(value) })),
    );
  }
}
