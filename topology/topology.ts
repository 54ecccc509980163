/**
 * The library's DSL: a typed, declarative way to define a windowed top-K pipeline over
 * partitioned Redis Streams, with Kafka Streams' nouns. A definition is data: the same `Topology`
 * runs in worker processes (`runPipeline`), answers queries (`TopKStore`), replays its streams
 * (`replayPipeline`) and runs under a test driver (`TopologyTestDriver`), through the same stages.
 *
 * ```ts
 * const trending = Topology.fromStreams('orders', { schema: Order, partitionKey: (o) => o.productId })
 *   .windowedBy(TimeWindows.ofSizeAndGrace(HOUR, 5 * MINUTE).advanceBy(10 * MINUTE))
 *   .aggregate({ group: (o) => o.category, member: (o) => o.productId, value: (o) => o.price * o.qty, reduce: 'sum' })
 *   .topK(10)
 *   .to(archive(store));
 * ```
 */
import type { z } from 'zod';
import { type Codec, jsonCodec } from '../operators/codec.js';
import type { GroupSpec, Order, Reducer, TieBreak } from '../operators/types.js';
import type { WindowDefinition } from '../operators/windowing.js';
import { describeTopology, type StageDescription } from './describe.js';
import type { Sink } from './sinks.js';
import { GlobalWindows } from './windows/index.js';

/** How a pipeline reads its input (Kafka Streams' `Consumed`). */
export interface Consumed<T> {
  /** The record schema; records are kept as JSON checked by it (`jsonCodec`). */
  schema?: z.ZodType<T>;
  /** Or a codec of its own (a compact layout, a hand-written check): takes precedence. */
  codec?: Codec<T>;
  /** The key that picks a record's partition: records of one key meet in one partition, in order. */
  partitionKey: (value: T) => string;
  /** A record's event time, epoch ms. Default: its arrival time (the stream entry's). */
  eventTime?: (value: T) => number;
}

/**
 * A group's settings, where they differ from the pipeline's (a registry of groups, such as the
 * leaderboard's boards, gives each its own).
 */
export type GroupSettings = Partial<GroupSpec>;

/** Where a pipeline's groups come from, when they are not all alike. */
export interface GroupSource {
  /** A group's settings, or undefined for a group the pipeline does not know (dead-lettered). */
  settings(group: string): GroupSettings | undefined;
  /** Called with the groups a batch names that `settings` does not know, before they are dead-lettered (e.g. to reload a registry). */
  refresh?(unknown: ReadonlySet<string>): Promise<void>;
  /** What a group is called in messages, e.g. `board`. Default `group`. */
  noun?: string;
}

export interface AggregateOptions<T> {
  /** A record's group, e.g. its category (or one fixed group for all). */
  group: ((value: T) => string) | string;
  /** A record's member, e.g. its product: ranked within the group. */
  member: (value: T) => string;
  /** A record's value (not needed for `count`). */
  value?: (value: T) => number;
  reduce?: Reducer;
  /** A de-duplication id: a repeat from the same member of the same group within 24 hours counts once. */
  id?: (value: T) => string | undefined;
  /** Per-group settings; without it every group is known and alike. */
  groups?: GroupSource;
}

export interface TopKOptions {
  order?: Order;
  tieBreak?: TieBreak;
  /** How long a closed window instance's state is kept, ms. Default 7 days. */
  retentionMs?: number;
}

/** Everything a run needs to know of a pipeline, as the DSL built it. */
export interface PipelineDefinition<T> {
  name: string;
  /** The input stream family's default name (keys `{<stream>:<p>}:in`). */
  stream: string;
  codec: Codec<T>;
  partitionKey: (value: T) => string;
  eventTime?: (value: T) => number;
  filters: { name: string; predicate: (value: T) => boolean }[];
  group: (value: T) => string;
  member: (value: T) => string;
  value: (value: T) => number;
  id?: (value: T) => string | undefined;
  /** A group's full spec, or undefined for one the pipeline does not know. */
  spec: (group: string) => GroupSpec | undefined;
  refresh?: (unknown: ReadonlySet<string>) => Promise<void>;
  groupNoun: string;
  /** Whether groups have settings of their own (a group source), over `defaults`. */
  perGroup: boolean;
  /** The spec of a group without settings of its own. */
  defaults: GroupSpec;
  sinks: readonly Sink[];
}

const DAY_MS = 86_400_000;

/**
 * A pipeline definition: source, processors and sinks, with `describe()` of its graph.
 *
 * @example
 * const topology = Topology.fromStreams('plays', { schema: Play, partitionKey: (p) => p.userId })
 *   .aggregate({ group: 'all-time', member: (p) => p.userId, value: (p) => p.points, reduce: 'sum' })
 *   .topK(100)
 *   .to();
 * console.log(topology.describe());
 */
export class Topology<T> {
  private constructor(readonly definition: PipelineDefinition<T>) {}

  get name(): string {
    return this.definition.name;
  }

  /** Starts a pipeline on a partitioned stream family (Kafka Streams' `StreamsBuilder.stream`). */
  static fromStreams<T>(stream: string, consumed: Consumed<T>): StreamBuilder<T> {
    if (!/^[^{}\s:]+$/.test(stream))
      throw new TypeError(`stream name '${stream}' must hold no braces, spaces or ':'`);
    const codec = consumed.codec ?? (consumed.schema ? jsonCodec(consumed.schema) : undefined);
    if (!codec) throw new TypeError('fromStreams needs a schema or a codec');
    return new StreamBuilder<T>({
      stream,
      codec,
      partitionKey: consumed.partitionKey,
      eventTime: consumed.eventTime,
      filters: [],
      windows: undefined,
    });
  }

  /** @internal */
  static build<T>(definition: PipelineDefinition<T>): Topology<T> {
    return new Topology(definition);
  }

  /** The graph's stages, each with the stages it feeds. */
  stages(): StageDescription[] {
    return describeTopology(this.definition).stages;
  }

  /** A readable graph of the stages, branches included, in the manner of Kafka Streams' `Topology.describe()`. */
  describe(): string {
    return describeTopology(this.definition).text;
  }

  /** The same pipeline under another name (describe, metrics). */
  named(name: string): Topology<T> {
    return new Topology({ ...this.definition, name });
  }
}

interface StreamState<T> {
  stream: string;
  codec: Codec<T>;
  partitionKey: (value: T) => string;
  eventTime?: (value: T) => number;
  filters: { name: string; predicate: (value: T) => boolean }[];
  windows: readonly WindowDefinition[] | undefined;
}

/** A stream of records, before aggregation (Kafka Streams' `KStream`). */
export class StreamBuilder<T> {
  constructor(private readonly state: StreamState<T>) {}

  /** Keeps the records the predicate accepts; the others are acknowledged and change nothing. */
  filter(
    predicate: (value: T) => boolean,
    name = `filter${this.state.filters.length + 1}`,
  ): StreamBuilder<T> {
    return new StreamBuilder({ ...this.state, filters: [...this.state.filters, { name, predicate }] });
  }

  /** The windows every group keeps (a group source may give a group its own). Default: the global window. */
  windowedBy(...windows: WindowDefinition[]): StreamBuilder<T> {
    if (windows.length === 0) throw new TypeError('windowedBy needs at least one window');
    const names = new Set(windows.map((w) => w.name));
    if (names.size !== windows.length) throw new TypeError('windowedBy: two windows share a name');
    return new StreamBuilder({ ...this.state, windows });
  }

  /** Reduces each (group, window instance, member) to a score. */
  aggregate(options: AggregateOptions<T>): AggregatedBuilder<T> {
    const reduce = options.reduce ?? 'sum';
    if (reduce !== 'count' && options.value === undefined) {
      throw new TypeError(`aggregate: reduce '${reduce}' needs a value function`);
    }
    const group = typeof options.group === 'string' ? fixed(options.group) : options.group;
    return new AggregatedBuilder(this.state, {
      group,
      member: options.member,
      value: options.value ?? (() => 1),
      id: options.id,
      reduce,
      groups: options.groups,
    });
  }
}

function fixed(group: string): () => string {
  return () => group;
}

interface AggregateState<T> {
  group: (value: T) => string;
  member: (value: T) => string;
  value: (value: T) => number;
  id?: (value: T) => string | undefined;
  reduce: Reducer;
  groups?: GroupSource;
}

/** A windowed aggregation, before its top-K (Kafka Streams' `KTable`, windowed). */
export class AggregatedBuilder<T> {
  constructor(
    private readonly stream: StreamState<T>,
    private readonly aggregation: AggregateState<T>,
  ) {}

  /** Keeps each window instance's top `k` as a snapshot, refreshed as scores change. */
  topK(k: number, options: TopKOptions = {}): TopKBuilder<T> {
    if (!Number.isInteger(k) || k < 1) throw new TypeError(`topK: k must be a positive integer, got ${k}`);
    const defaults: GroupSpec = {
      reduce: this.aggregation.reduce,
      windows: this.stream.windows ?? [GlobalWindows.create()],
      order: options.order ?? 'desc',
      k,
      tieBreak: options.tieBreak ?? 'member',
      retentionMs: options.retentionMs ?? 7 * DAY_MS,
    };
    return new TopKBuilder(this.stream, this.aggregation, defaults);
  }
}

/** The pipeline's top-K stage, before its sinks. */
export class TopKBuilder<T> {
  constructor(
    private readonly stream: StreamState<T>,
    private readonly aggregation: AggregateState<T>,
    private readonly defaults: GroupSpec,
  ) {}

  /** Ends the pipeline with its sinks (archive, callbacks); the snapshots themselves are always kept. */
  to(...sinks: Sink[]): Topology<T> {
    const names = new Set(sinks.map((s) => s.name));
    if (names.size !== sinks.length) throw new TypeError('to: two sinks share a name');
    const { groups } = this.aggregation;
    return Topology.build({
      name: this.stream.stream,
      stream: this.stream.stream,
      codec: this.stream.codec,
      partitionKey: this.stream.partitionKey,
      eventTime: this.stream.eventTime,
      filters: this.stream.filters,
      group: this.aggregation.group,
      member: this.aggregation.member,
      value: this.aggregation.value,
      id: this.aggregation.id,
      spec: groups ? specsFrom(groups, this.defaults) : () => this.defaults,
      refresh: groups?.refresh?.bind(groups),
      groupNoun: groups?.noun ?? 'group',
      perGroup: groups !== undefined,
      defaults: this.defaults,
      sinks,
    });
  }
}

/**
 * A group's full spec from its settings over the pipeline's defaults, remembered while the
 * settings object stays the same (a registry replaces a group's object when it changes).
 */
function specsFrom(groups: GroupSource, defaults: GroupSpec): (group: string) => GroupSpec | undefined {
  const specs = new WeakMap<GroupSettings, GroupSpec>();
  return (group) => {
    const settings = groups.settings(group);
    if (settings === undefined) return undefined;
    let spec = specs.get(settings);
    if (!spec) {
      spec = { ...defaults, ...stripUndefined(settings) };
      specs.set(settings, spec);
    }
    return spec;
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
