/**
 * The data that flows between the operators, for any pipeline: records keyed by a group (e.g. a
 * board, a product category) and a member (a user, a product) with a numeric value and an event
 * time. Every stage works on one partition batch at a time (an envelope), because the apply stage
 * must update, checkpoint and acknowledge a whole batch in one atomic script.
 */
import type { TimeWindow, WindowDefinition } from './windowing.js';

/** How a record's value combines with a member's score. `count` adds one per record. */
export type Reducer = 'sum' | 'max' | 'min' | 'last' | 'count';
/** `desc`: higher scores rank first. */
export type Order = 'desc' | 'asc';
/**
 * How equal scores are ordered: `member` by member id bytes (descending on `desc` groups,
 * ascending on `asc` ones: the order Redis keeps), sharing a rank (competition ranking 1, 2, 2, 4);
 * `earliest` by who reached the score first (the event time of the record that set it), then by
 * member id bytes, with unique ranks.
 */
export type TieBreak = 'member' | 'earliest';

export const REDUCERS: readonly Reducer[] = ['sum', 'max', 'min', 'last', 'count'];

/** How one group is aggregated, windowed and ranked. */
export interface GroupSpec {
  reduce: Reducer;
  windows: readonly WindowDefinition[];
  order: Order;
  /** Size of the cached top of each window instance. */
  k: number;
  tieBreak: TieBreak;
  /** How long the state of a closed window instance is kept, ms (after its end plus grace). */
  retentionMs: number;
}

/** A group's spec by id; undefined for a group the pipeline does not know (its records are dead-lettered). */
export type GroupLookup = (group: string) => GroupSpec | undefined;

/** One instance of one of a group's windows. */
export interface WindowInstance extends TimeWindow {
  definition: WindowDefinition;
  /** `<name>:<start>`, the instance's name in keys. */
  key: string;
}

/** A record as the stages see it once decoded and keyed. */
export interface KeyedRecord {
  group: string;
  member: string;
  value: number;
  /** Event time, epoch ms. */
  ts: number;
  /** The de-duplication id (a repeat from the same member of the group counts once), if any. */
  id?: string;
  /** The stream entry the record came from (its milliseconds are its arrival time). */
  entryId: string;
  spec: GroupSpec;
}

/** A record with the window instances it still counts in. */
export interface WindowedRecord {
  record: KeyedRecord;
  windows: WindowInstance[];
}

/** A record (for one of its windows) that arrived after that window's end plus grace. */
export interface LateRecord {
  record: KeyedRecord;
  window: WindowInstance;
  /** The partition's stream time when it was judged late. */
  streamTime: number;
}

/** The pre-aggregated change of one (group, window instance, member) within a batch. */
export interface Update {
  group: string;
  window: WindowInstance;
  member: string;
  spec: GroupSpec;
  /** `sum`: the summed values; `count`: the number of records; otherwise the winning value. */
  value: number;
  /** Event time of the record that set the value (see `setsValue`). */
  ts: number;
  /**
   * Position in the batch of the record that set the value: the apply stage applies updates and
   * identified records in this order, the stream's, which `last` needs to settle equal event times.
   */
  pos: number;
  /**
   * `sum`: false when every value folded in was 0, so no record set the score. Values that add up
   * to 0 still set it (the last non-zero one, at `ts`), which the `earliest` tie rule must know
   * and the summed value cannot tell. Absent (or undefined): true. Other reducers are judged by
   * the apply script against the stored score.
   */
  sets?: boolean;
}

/**
 * A record that carries a de-duplication id. It is not folded into the updates, because only the
 * apply script can tell atomically whether it was already applied, and must then drop exactly it.
 */
export interface IdentifiedRecord {
  record: KeyedRecord;
  windows: WindowInstance[];
  /** Position in the batch (see {@link Update.pos}). */
  pos: number;
}

/** A stream entry that cannot be processed, with the reason; dead-lettered with the batch. */
export interface RejectedEntry {
  id: string;
  reason: string;
}

/** A partition batch as it travels through the pipeline, with the payload of the current stage. */
export interface Envelope<T> {
  partition: number;
  /** Lease epoch under which the batch was read; the apply script fences on it. */
  epoch: number;
  /** The lease's fencing token (`<epoch>:<consumer>`) the apply script compares. */
  token: string;
  /** IDs of every stream entry of the batch (processed or not), for the acknowledgement. */
  ids: string[];
  firstId: string;
  lastId: string;
  /** Entries that cannot be processed; the apply script dead-letters them with the batch. */
  rejected: RejectedEntry[];
  payload: T;
}

export interface DecodedPayload<T> {
  values: { value: T; entryId: string }[];
  /** The greatest watermark among the batch's entries (see `WATERMARK_FIELD`), if any. */
  watermark?: number;
}

export interface KeyedPayload {
  records: KeyedRecord[];
  watermark?: number;
}

export interface WindowedPayload {
  records: WindowedRecord[];
  late: LateRecord[];
  /** The partition's stream time (greatest event time seen) after this batch. */
  streamTime: number;
}

export interface AggregatedPayload {
  updates: Update[];
  identified: IdentifiedRecord[];
  late: LateRecord[];
  streamTime: number;
}

/** A (group, window instance) whose top-K a batch may have changed. */
export interface ChangedTop {
  group: string;
  window: WindowInstance;
  spec: GroupSpec;
}

/** What the apply stage reports for each partition batch it wrote. */
export interface AppliedBatch {
  partition: number;
  epoch: number;
  lastId: string;
  /** Entries in the batch (applied, late, rejected or duplicate). */
  entries: number;
  /** The tops the batch may have changed (judged by the apply script from the partition's state). */
  changed: ChangedTop[];
  late: LateRecord[];
  /** (record, window) pairs set aside as late. */
  lateCount: number;
  rejected: number;
  duplicates: number;
  /** Arrival time (ms, from the entry ids) of the batch's oldest and newest entries. */
  oldestArrival: number;
  newestArrival: number;
  appliedAt: number;
}

/** One row of a ranking. */
export interface RankedEntry {
  /** 1-based. */
  rank: number;
  member: string;
  score: number;
}

/** A new version of a (group, window instance) top-K, as stored and announced. */
export interface Snapshot {
  group: string;
  window: WindowInstance;
  version: number;
  updatedAt: number;
  entries: RankedEntry[];
  /** Arrival time of the oldest entry whose change this snapshot is the first to show. */
  oldestArrival: number;
}
